/**
 * Config registry, value parsing, command-line assembly, CONFIG GET/SET semantics and CONFIG
 * REWRITE, against Redis 7.0.15's observed behaviour (texts captured from the real server; the
 * end-to-end differential run is test/e2e/config-diff.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Config, ConfigError } from './config.js';
import { applyLines, argvToLines, assembleConfig, commandLineOptions, textToLines, FatalConfigError, quoteRepr } from './parse.js';
import { memtoull, string2ll } from './values.js';
import { rewriteConfigFile, formatMemory } from './rewrite.js';
import { properties } from '../../test/props/parsers.js';

function load(text: string, config = new Config()): { config: Config; warnings: string[] } {
  const warnings = applyLines(config, textToLines(text, '/etc/test.conf'));
  return { config, warnings };
}

function fatal(text: string): FatalConfigError {
  try {
    load(text);
  } catch (e) {
    if (e instanceof FatalConfigError) return e;
    throw e;
  }
  assert.fail('expected a FatalConfigError');
}

test('string2ll and memtoull follow Redis', () => {
  assert.equal(string2ll('0'), 0n);
  assert.equal(string2ll('-12'), -12n);
  for (const bad of ['', '01', '-0', '+1', ' 1', '1 ', '1.5', '99999999999999999999']) assert.equal(string2ll(bad), null, bad);
  assert.equal(memtoull('10kb'), 10240n);
  assert.equal(memtoull('1GB'), 1073741824n);
  assert.equal(memtoull('1g'), 1000000000n);
  assert.equal(memtoull('01'), 1n);
  assert.equal(memtoull(''), 0n);
  assert.equal(memtoull('99999999999999999999'), 18446744073709551615n);
  for (const bad of ['-1', ' 5', '1.5', '5 ', 'abc', '10kbb']) assert.equal(memtoull(bad), null, bad);
});

test('typed values: errors worded as Redis', () => {
  const c = new Config();
  const err = (name: string, v: string) => {
    try {
      c.apply(name, [v]);
    } catch (e) {
      return (e as ConfigError).message;
    }
    return 'OK';
  };
  assert.equal(err('port', 'abc'), "argument couldn't be parsed into an integer");
  assert.equal(err('port', '70000'), 'argument must be between 0 and 65535 inclusive');
  assert.equal(err('maxclients', '-5'), 'argument must be between 1 and 4294967295 inclusive');
  assert.equal(err('maxmemory', '-1'), 'argument must be a memory value');
  assert.equal(err('client-query-buffer-limit', '99999999999999999999'), 'argument must be between 1048576 and 9223372036854775807 inclusive');
  assert.equal(err('appendonly', 'maybe'), "argument must be 'yes' or 'no'");
  assert.equal(err('loglevel', 'loud'), 'argument(s) must be one of the following: debug, verbose, notice, warning');
  assert.equal(err('unixsocketperm', '800'), "argument couldn't be parsed as an octal number");
  assert.equal(err('dbfilename', 'a/b.rdb'), "dbfilename can't be a path, just a filename");
  assert.equal(err('hz', '1000'), 'OK');
  assert.equal(c.format('hz'), '500');
  assert.equal(err('unixsocketperm', '700'), 'OK');
  assert.equal(c.int('unixsocketperm'), 0o700);
  assert.equal(c.format('unixsocketperm'), '700');
  assert.equal(err('maxmemory', '18446744073709551615'), 'OK');
  assert.equal(c.format('maxmemory'), '18446744073709551615');
});

test('multi-argument directives: save lines add up while loading, save "" clears', () => {
  let { config } = load('save 900 1\nsave 300 10\nsave 60 10000\n');
  assert.equal(config.format('save'), '900 1 300 10 60 10000');
  ({ config } = load('save 900 1\nsave ""\n'));
  assert.equal(config.format('save'), '');
  ({ config } = load('save "900 1 300 10"\n'));
  assert.equal(config.format('save'), '900 1 300 10');
  assert.equal(fatal('save 900').reason, 'Invalid save parameters');
  assert.equal(fatal('save 0 1').reason, 'Invalid save parameters');
});

test('client-output-buffer-limit lines set their own class only', () => {
  const { config } = load('client-output-buffer-limit normal 0 0 0\nclient-output-buffer-limit replica 256mb 64mb 60\nclient-output-buffer-limit pubsub 1mb 2mb 3\n');
  assert.equal(config.format('client-output-buffer-limit'), 'normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 2097152 3');
  assert.equal(fatal('client-output-buffer-limit master 1 1 1').reason, 'Invalid client class specified in buffer limit configuration.');
  assert.equal(fatal('client-output-buffer-limit normal 1 1').reason, 'Wrong number of arguments in buffer limit configuration.');
});

test('bind, replicaof (alias slaveof), aliases and quoted values', () => {
  const { config } = load('bind 127.0.0.1 -::1\nslaveof 10.0.0.8 6379\nslave-read-only no\nrequirepass "a b\\x41"\nlogfile \'\'\n');
  assert.deepEqual(config.get('bind'), ['127.0.0.1', '-::1']);
  assert.deepEqual(config.get('replicaof'), { host: '10.0.0.8', port: 6379 });
  assert.equal(config.bool('replica-read-only'), false);
  assert.equal(config.str('requirepass'), 'a bA');
  assert.equal(config.str('logfile'), '');
  assert.equal(fatal('replicaof 10.0.0.8').reason, 'wrong number of arguments');
  assert.equal(fatal('replicaof 10.0.0.8 x').reason, 'Invalid master port');
});

test('unknown directive: FATAL CONFIG FILE ERROR in Redis format, naming the file', () => {
  const e = fatal('port 6380\n\n  replica-read-omly yes  \n');
  assert.equal(
    e.render('7.0.15'),
    "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 3\n>>> 'replica-read-omly yes'\nBad directive or wrong number of arguments\nThe line comes from the file '/etc/test.conf'.\n",
  );
  assert.equal(fatal('port 1 2').reason, 'wrong number of arguments');
  assert.equal(fatal('port "1').reason, 'Unbalanced quotes in configuration line');
  assert.equal(fatal('sentinel monitor m 127.0.0.1 6379 2').reason, 'sentinel directive while not in sentinel mode');
});

test('Redis directives Mirra lacks: one warning each; unsafe ones refuse to start', () => {
  const { config, warnings } = load('activerehashing yes\nlist-max-ziplist-entries 5\n');
  assert.deepEqual(warnings, ["Directive 'activerehashing' is accepted but not implemented by Mirra", "Directive 'list-max-ziplist-entries' is deprecated and was ignored"]);
  assert.equal(config.format('activerehashing'), 'yes');
  // Their values are checked as Redis checks them, and shown normalised.
  assert.equal(fatal('activerehashing maybe').reason, "argument must be 'yes' or 'no'");
  assert.equal(fatal('tls-port 70000').reason, 'argument must be between 0 and 65535 inclusive');
  assert.equal(fatal('oom-score-adj-values 0 200').reason, 'wrong number of arguments');
  assert.equal(load('active-defrag-ignore-bytes 3kb\noom-score-adj-values "0 200 800"\n').config.format('active-defrag-ignore-bytes'), '3072');
  assert.equal(fatal('sentinel').reason, 'Sentinel mode is not supported by Mirra');
  assert.match(fatal('rename-command FLUSHALL').reason, /wrong number of arguments/);
  assert.match(fatal('rename-command NOSUCHCMD x').reason, /No such command/);
  assert.match(fatal('user default on >secret ~* +@all').reason, /not supported/);
});

test('leniencies: trailing comments and typographic quotes (seed configs) with warnings', () => {
  const text = Buffer.from('logfile “/opt/redis/log/master_6379.log” # 该项可不设置\nslave-read-only yes # 表示从库只读\nrequirepass "a # b"\nport 6380 #x\n', 'utf8').toString('latin1');
  const { config, warnings } = load(text);
  assert.equal(config.str('logfile'), '/opt/redis/log/master_6379.log');
  assert.equal(config.str('requirepass'), 'a # b');
  assert.equal(config.int('port'), 6380);
  assert.equal(warnings.length, 4);
  assert.match(warnings[0]!, /Typographic quotes .* line 1 of \/etc\/test.conf/);
  // Seed 001's typo is still refused after the comment is cut.
  assert.equal(fatal('replica-read-omly yes # 配置从节点只读').reason, 'Bad directive or wrong number of arguments');
});

test('command line: options text exactly as redis-server builds it', () => {
  assert.equal(commandLineOptions(['--port', '6380', '--save', '', '--replicaof', '127.0.0.1', '6379'], 0).options, 'port "6380" \nsave "" \nreplicaof "127.0.0.1" "6379" ');
  assert.equal(commandLineOptions(['--save', '--port', '1'], 0).options, 'save ""\nport "1" ');
  assert.equal(commandLineOptions(['--port 6380', '--loglevel', 'warning'], 0).options, 'port 6380 \nloglevel "warning" ');
  assert.equal(commandLineOptions(['--requirepass', 'p"\\\u00e9'], 0).options, 'requirepass "p\\"\\\\\\xc3\\xa9" ');
  assert.deepEqual(commandLineOptions(['conf', '--port', '1', '-'], 1), { options: 'port "1" ', stdin: true });
  assert.equal(quoteRepr('a\n\x00'), '"a\\n\\x00"');
  // Numbering continues after the file (plus the empty joining line), as in Redis.
  const lines = assembleConfig([
    { text: 'port 7\n', origin: '/x.conf' },
    { text: '\nport "abc" ', origin: '(command line)' },
  ]);
  assert.deepEqual(lines[2], { text: 'port "abc" ', number: 3, file: '(command line)' });
  const cfg = new Config();
  applyLines(cfg, argvToLines(['--port', '7000', '--save', '']));
  assert.equal(cfg.int('port'), 7000);
  assert.equal(cfg.format('save'), '');
});

test('include, with wildcards, in place', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirra-conf-'));
  try {
    fs.writeFileSync(path.join(dir, 'a.conf'), 'maxmemory-samples 7\n');
    fs.writeFileSync(path.join(dir, 'b.conf'), 'hz 20\nmaxmemory-samples 8\n');
    const { config } = load(`maxmemory-samples 3\ninclude ${dir}/*.conf\nhz 30\n`);
    assert.equal(config.int('maxmemory-samples'), 8);
    assert.equal(config.int('hz'), 30);
    fs.writeFileSync(path.join(dir, 'bad.conf'), 'hz\n');
    const e = fatal(`include ${dir}/bad.conf`);
    assert.equal(e.lineNumber, 1);
    assert.equal(e.file, `${dir}/bad.conf`);
    assert.throws(() => load(`include ${dir}/missing.conf`), /can't open config file .*missing.conf': No such file or directory/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('CONFIG GET: globs match names and aliases, exact names keep their spelling, no repeats', () => {
  const c = new Config();
  assert.deepEqual(c.getMatching(['PORT']), [['PORT', '6379']]);
  assert.deepEqual(c.getMatching(['port', 'PORT', 'p?rt']), [['port', '6379']]);
  const names = c.getMatching(['slave*']).map(([n]) => n);
  assert.ok(names.includes('slave-read-only') && names.includes('slaveof'));
  const hash = new Map(c.getMatching(['hash-max-*']));
  assert.deepEqual([...hash.keys()].sort(), ['hash-max-listpack-entries', 'hash-max-listpack-value', 'hash-max-ziplist-entries', 'hash-max-ziplist-value']);
  assert.equal(new Map(c.getMatching(['*'])).get('acllog-max-len'), '128');
  assert.deepEqual(c.getMatching(['nosuch']), []);
});

test('CONFIG SET: several parameters at once, all or nothing, Redis error texts', () => {
  const c = new Config();
  assert.equal(c.configSet(['timeout', '30', 'hz', '20', 'maxmemory', '1mb'], false), null);
  assert.deepEqual([c.int('timeout'), c.int('hz'), c.int('maxmemory')], [30, 20, 1048576]);
  assert.equal(c.configSet(['timeout', '40', 'hz', 'abc'], false), "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer");
  assert.equal(c.int('timeout'), 30, 'nothing changed');
  assert.equal(c.configSet(['port', '1', 'port', '2'], false), "ERR CONFIG SET failed (possibly related to argument 'port') - duplicate parameter");
  assert.equal(c.configSet(['PORT', '1', 'port', '2'], false), "ERR CONFIG SET failed (possibly related to argument 'port') - duplicate parameter");
  assert.equal(c.configSet(['slave-priority', '1', 'replica-priority', '2'], false), null, 'an alias is no duplicate (Redis)');
  assert.equal(c.int('replica-priority'), 2);
  assert.equal(c.configSet(['port', 'abc', 'foo', 'bar'], false), "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
  assert.equal(c.configSet(['daemonize', 'yes', 'foo', 'bar'], false), "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config");
  assert.equal(c.configSet(['dir', '/tmp'], false), "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config");
  assert.equal(c.configSet(['slave-read-only', 'foo'], false), "ERR CONFIG SET failed (possibly related to argument 'slave-read-only') - argument must be 'yes' or 'no'");
  assert.equal(c.configSet(['save', '900 1 300 10'], false), null);
  assert.equal(c.format('save'), '900 1 300 10');
  assert.equal(c.configSet(['save', ''], false), null);
  assert.equal(c.format('save'), '');
  assert.equal(c.configSet(['client-output-buffer-limit', 'normal 1 2 3'], false), null);
  assert.equal(c.format('client-output-buffer-limit'), 'normal 1 2 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60');
  assert.match(String(c.configSet(['activerehashing', 'no'], false)), /not supported by Mirra/);
});

test('CONFIG SET dir (protected): changes the working directory, or fails with strerror', () => {
  const c = new Config();
  const before = process.cwd();
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mirra-dir-')));
  try {
    assert.equal(c.configSet(['dir', dir], true), null);
    assert.equal(process.cwd(), dir);
    assert.equal(c.format('dir'), dir);
    assert.equal(c.configSet(['dir', path.join(dir, 'missing')], true), "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory");
    assert.equal(process.cwd(), dir);
    assert.equal(c.format('dir'), dir);
  } finally {
    process.chdir(before);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('CONFIG SET: a refusing applier restores every value', async () => {
  const c = new Config();
  c.onApply('maxmemory-samples', (v) => {
    if (v === 13) throw new ConfigError('unlucky');
  });
  c.onApply('timeout', async (v) => {
    await new Promise((r) => setTimeout(r, 1));
    if (v === 99) throw new ConfigError('no way');
  });
  assert.equal(c.configSet(['hz', '20', 'maxmemory-samples', '13'], false), "ERR CONFIG SET failed (possibly related to argument 'maxmemory-samples') - unlucky");
  assert.equal(c.int('hz'), 10);
  const r = c.configSet(['hz', '30', 'timeout', '99'], false);
  assert.ok(r instanceof Promise);
  assert.equal(await r, "ERR CONFIG SET failed (possibly related to argument 'timeout') - no way");
  assert.deepEqual([c.int('hz'), c.int('timeout')], [10, 0]);
  assert.equal(await c.configSet(['timeout', '5'], false), null);
  assert.equal(c.int('timeout'), 5);
});

test('CONFIG REWRITE: Redis algorithm (replace in place, blank leftovers, append with signature)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirra-rw-'));
  try {
    const file = path.join(dir, 'r.conf');
    fs.writeFileSync(file, '# top comment\nport 17200\n  slave-read-only yes\nsave 900 1\nsave 300 10\nactiverehashing yes\nreplicaof 127.0.0.1 1\nhz 10\n', { mode: 0o640 });
    const { config } = load(fs.readFileSync(file, 'latin1'));
    config.configFile = file;
    config.set('dir', dir);
    config.set('replicaof', null);
    assert.equal(config.configSet(['replica-read-only', 'no', 'save', '60 5', 'tcp-keepalive', '60', 'maxmemory', '2mb', 'hz', '20', 'notify-keyspace-events', 'KEA'], false), null);
    rewriteConfigFile(config, file);
    assert.equal(
      fs.readFileSync(file, 'utf8'),
      [
        '# top comment',
        'port 17200',
        'replica-read-only no',
        'save 60 5',
        '',
        'activerehashing yes',
        '',
        'hz 20',
        '',
        '# Generated by CONFIG REWRITE',
        'tcp-keepalive 60',
        'notify-keyspace-events "AKE"',
        'maxmemory 2mb',
        `dir "${dir}"`,
        '',
      ].join('\n'),
    );
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    // Round trip: the rewritten file loads to the same values.
    const again = load(fs.readFileSync(file, 'latin1')).config;
    for (const n of ['port', 'replica-read-only', 'save', 'tcp-keepalive', 'maxmemory', 'hz', 'notify-keyspace-events']) {
      assert.equal(again.format(n), config.format(n), n);
    }
    // A second rewrite keeps the signature once.
    rewriteConfigFile(config, file);
    assert.equal(fs.readFileSync(file, 'utf8').split('# Generated by CONFIG REWRITE').length, 2);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual([0, 1023, 1024, 3 * 1024 * 1024, 1 << 30].map(formatMemory), ['0', '1023', '1kb', '3mb', '1gb']);
});

for (const prop of properties.filter((p) => p.name.startsWith('config'))) {
  test(`property: ${prop.name}`, () => prop.check(300));
}
