/**
 * The mirra-server command line and config files, compared with the real redis-server 7.0:
 * FATAL CONFIG FILE ERROR output and exit status, --version/--help, config from stdin, Debian's
 * stock /etc/redis/redis.conf, the seed configs, include, quoted and multi-argument values.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { MIRRA_BIN, SERVER_NODE_FLAGS, hasRedis, tempDir, canConnect } from '../helpers/servers.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { directives } from '../../src/config/directives.js';

const redisAvailable = hasRedis();
const DEBIAN_CONF = '/etc/redis/redis.conf';

type Kind = 'mirra' | 'redis';

function command(kind: Kind, args: string[]): [string, string[]] {
  return kind === 'mirra' ? [process.execPath, [...SERVER_NODE_FLAGS, MIRRA_BIN, ...args]] : ['redis-server', args];
}

/** Runs a server that is expected to exit at once (bad config, --version...). */
function runOnce(kind: Kind, args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const [cmd, argv] = command(kind, args);
  const r = spawnSync(cmd, argv, { input: input ?? '', encoding: 'utf8', timeout: 10000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const live: ChildProcess[] = [];
after(() => {
  for (const p of live) if (p.exitCode === null && p.signalCode === null && p.pid) process.kill(p.pid, 'SIGKILL');
});

/** Starts a server in the foreground and waits until `port` accepts connections. */
async function startServer(kind: Kind, args: string[], port: number, input?: string): Promise<ChildProcess> {
  const [cmd, argv] = command(kind, args);
  const p = spawn(cmd, argv, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  live.push(p);
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  if (input !== undefined) p.stdin!.end(input);
  await waitFor(
    async () => {
      if (p.exitCode !== null) throw new Error(`${kind} exited during startup: ${out}`);
      return canConnect(port);
    },
    `${kind} listening on ${port}`,
    15000,
  );
  return p;
}

async function stopServer(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  process.kill(p.pid!, 'SIGKILL');
  await exited;
}

async function configAll(port: number, password?: string): Promise<Map<string, string>> {
  const c = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => {});
  await c.connect();
  const flat = (await c.config('GET', '*')) as string[];
  c.disconnect();
  const m = new Map<string, string>();
  for (let i = 0; i < flat.length; i += 2) m.set(flat[i]!, flat[i + 1]!);
  return m;
}

/** The four lines Redis prints for a config error (Mirra adds one naming the source). */
function fatalLines(stderr: string): string[] {
  return stderr.split('\n').slice(0, 5);
}

test('an unknown directive (seed 001 typo): same FATAL CONFIG FILE ERROR as redis-server, exit 1', { skip: !redisAvailable }, () => {
  const dir = tempDir();
  const file = path.join(dir, 'typo.conf');
  fs.writeFileSync(file, 'port 6380\nreplica-read-omly yes\n');
  const m = runOnce('mirra', [file]);
  const r = runOnce('redis', [file]);
  assert.equal(m.status, 1);
  assert.equal(r.status, 1);
  assert.equal(m.stdout, '');
  assert.deepEqual(fatalLines(m.stderr), fatalLines(r.stderr));
  assert.deepEqual(fatalLines(m.stderr), ['', '*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***', 'Reading the configuration file, at line 2', ">>> 'replica-read-omly yes'", 'Bad directive or wrong number of arguments']);
  assert.equal(m.stderr.split('\n')[5], `The line comes from the file '${file}'.`);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("seed 001's config block: the typo is reported even with the blog's trailing comments", () => {
  const dir = tempDir();
  const file = path.join(dir, 'seed001.conf');
  const seed = fs.readFileSync('/work/shared/seeds/001_e7ae268c5891c8d5.txt', 'utf8').split('\n');
  const block = seed.filter((l) => /^\s+(port|pidfile|logfile|dir|replicaof|replica-read-omly) /.test(l)).map((l) => l.trim());
  assert.equal(block.length, 6);
  fs.writeFileSync(file, block.join('\n') + '\n');
  const m = runOnce('mirra', [file]);
  assert.equal(m.status, 1);
  // dir /usr/local/redis-5.0.3/data/6380 does not exist here: Redis stops at it as well.
  assert.match(m.stderr, /at line 4\n>>> 'dir \/usr\/local\/redis-5.0.3\/data\/6380 #指定数据存放目录'\nNo such file or directory\n/);
  fs.writeFileSync(file, block.filter((l) => !l.startsWith('dir')).join('\n') + '\n');
  const m2 = runOnce('mirra', [file]);
  assert.equal(m2.status, 1);
  assert.match(m2.stderr, /at line 5\n>>> 'replica-read-omly yes # 配置从节点只读'\nBad directive or wrong number of arguments\n/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('bad values on the command line: same output as redis-server, never a stack trace', { skip: !redisAvailable }, () => {
  const dir = tempDir();
  const file = path.join(dir, 'ok.conf');
  fs.writeFileSync(file, 'port 7\n');
  const cases = [
    ['--port', 'abc'],
    ['--maxclients', '-5'],
    ['--port', '70000'],
    ['--loglevel', 'loud'],
    ['--save', '0', '1'],
    ['--replicaof', 'a', 'b'],
    ['--port', '17999', 'junk'],
    ['--foo', 'bar'],
    ['--dir', path.join(dir, 'missing')],
    ['--logfile', path.join(dir, 'missing', 'x.log')],
    [file, 'junk'],
    [file, '--port', 'abc'],
  ];
  for (const args of cases) {
    const m = runOnce('mirra', args);
    const r = runOnce('redis', args);
    assert.equal(m.status, 1, args.join(' '));
    assert.equal(r.status, 1, args.join(' '));
    assert.deepEqual(fatalLines(m.stderr), fatalLines(r.stderr), args.join(' '));
    assert.doesNotMatch(m.stderr, /\n\s+at /, 'no stack trace');
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a missing config file: one log line on stdout, exit 1', { skip: !redisAvailable }, () => {
  const m = runOnce('mirra', ['/nonexistent/mirra.conf']);
  const r = runOnce('redis', ['/nonexistent/mirra.conf']);
  assert.equal(m.status, 1);
  assert.equal(r.status, 1);
  const strip = (s: string) => s.replace(/^\d+:C \d\d \w{3} \d{4} [\d:.]+ /, '');
  assert.equal(strip(m.stdout), strip(r.stdout));
  assert.equal(strip(m.stdout), "# Fatal error, can't open config file '/nonexistent/mirra.conf': No such file or directory\n");
});

test('--version and --help', () => {
  // The bin runs by itself, as `npx mirra-server` runs it: executable, its shebang finds node.
  const direct = spawnSync(MIRRA_BIN, ['--version'], { encoding: 'utf8', timeout: 20000 });
  assert.equal(direct.status, 0, direct.stderr);
  assert.match(direct.stdout, /^Redis server v=7\.0\.15 /);
  for (const flag of ['-v', '--version']) {
    const m = runOnce('mirra', [flag]);
    assert.equal(m.status, 0);
    assert.match(m.stdout, /^Redis server v=7\.0\.15 sha=[0-9a-f]{8}:0 malloc=\S+ bits=64 build=\S+\n$/);
  }
  for (const flag of ['-h', '--help']) {
    const m = runOnce('mirra', [flag]);
    assert.equal(m.status, 1, 'redis-server --help exits 1 too');
    assert.equal(m.stdout, '');
    assert.match(m.stderr, /^Usage: \.\/mirra-server \[\/path\/to\/redis\.conf\] \[options\] \[-\]\n/);
    assert.match(m.stderr, /mirra-server - \(read config from stdin\)/);
  }
});

test('config from stdin (-), alone and after a file; errors number lines like Redis', { skip: !redisAvailable }, async () => {
  const port = await freePort();
  const dir = tempDir();
  const p = await startServer('mirra', ['-'], port, `port ${port}\nsave ""\ndir ${dir}\nmaxmemory-samples 9\n`);
  const cfg = await configAll(port);
  assert.equal(cfg.get('maxmemory-samples'), '9');
  await stopServer(p);
  const file = path.join(dir, 'a.conf');
  fs.writeFileSync(file, 'port 7\n');
  const m = runOnce('mirra', [file, '--hz', '20', '-'], 'maxclients 10\nfoo bar\n');
  const r = runOnce('redis', [file, '--hz', '20', '-'], 'maxclients 10\nfoo bar\n');
  assert.equal(m.status, 1);
  assert.deepEqual(fatalLines(m.stderr), fatalLines(r.stderr));
  assert.equal(m.stderr.split('\n')[5], 'The line comes from the configuration read from stdin.');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts both servers with the same config file and overrides; returns both CONFIG GET *. */
async function bothWith(
  file: string,
  extra: (kind: Kind, port: number, dir: string) => string[],
  password?: string,
): Promise<[Map<string, string>, Map<string, string>, string]> {
  const out: Map<string, string>[] = [];
  let mirraLog = '';
  for (const kind of ['mirra', 'redis'] as const) {
    const port = await freePort();
    const dir = tempDir();
    const p = await startServer(kind, [file, ...extra(kind, port, dir)], port);
    out.push(await configAll(port, password));
    await stopServer(p);
    if (kind === 'mirra') mirraLog = fs.readFileSync(path.join(dir, 'server.log'), 'utf8');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return [out[0]!, out[1]!, mirraLog];
}

/** Compares every CONFIG GET * entry both servers share, except per-run values. */
function assertSameConfig(m: Map<string, string>, r: Map<string, string>, ignore: string[]): void {
  const diffs: string[] = [];
  for (const [name, value] of r) {
    if (ignore.includes(name)) continue;
    if (m.get(name) !== value) diffs.push(`${name}: redis=${JSON.stringify(value)} mirra=${JSON.stringify(m.get(name))}`);
  }
  assert.deepEqual(diffs, []);
}

const PER_RUN = ['port', 'pidfile', 'logfile', 'dir', 'daemonize'];

test("Debian's stock /etc/redis/redis.conf: starts, and every value equals redis-server's", { skip: !redisAvailable || !fs.existsSync(DEBIAN_CONF) }, async () => {
  const dir = tempDir();
  const file = path.join(dir, 'redis.conf');
  fs.copyFileSync(DEBIAN_CONF, file);
  const [m, r, log] = await bothWith(file, (_kind, port, d) => [
    '--port', String(port),
    '--daemonize', 'no',
    '--logfile', path.join(d, 'server.log'),
    '--dir', d,
    '--pidfile', path.join(d, 'server.pid'),
  ]);
  assertSameConfig(m, r, PER_RUN);
  // Directives Mirra only accepts are named once each in the log.
  const warned = [...log.matchAll(/Directive '([^']+)' is accepted but not implemented by Mirra/g)].map((x) => x[1]);
  console.log(`Debian redis.conf directives only warned about: ${warned.join(', ')}`);
  // Exactly the file's directives that Mirra's registry lacks, each once.
  const implemented = new Set(directives.flatMap((d) => [d.name, ...(d.aliases ?? [])]));
  const inFile = fs
    .readFileSync(DEBIAN_CONF, 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0]!.toLowerCase())
    .filter((n) => n !== '' && !n.startsWith('#'));
  assert.deepEqual(warned.sort(), [...new Set(inFile.filter((n) => !implemented.has(n)))].sort());
  assert.match(log, / Ready to accept connections\n/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('include, quoted values, save "", multi-argument directives: same values as redis-server', { skip: !redisAvailable }, async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'inc.conf'), 'maxmemory-samples 7\nhz 20\n');
  const file = path.join(dir, 'main.conf');
  fs.writeFileSync(
    file,
    [
      '# comment',
      '   # indented comment',
      'save 900 1 300 10',
      'save 60 10000',
      'client-output-buffer-limit normal 0 0 0',
      'client-output-buffer-limit pubsub 1mb 2mb 30',
      'bind 127.0.0.1 -::1',
      'requirepass "with space and \\"quotes\\""',
      "masterauth 'single'",
      'notify-keyspace-events "Ex"',
      'proc-title-template "{title} {port}"',
      'maxmemory 100MB',
      'slave-priority 50',
      'hash-max-ziplist-entries 64',
      'unixsocketperm 700',
      'shutdown-on-sigterm "nosave now"',
      // Last: after an include, redis-server 7.0 stops adding up `save` lines (its
      // reading_config_file flag is reset by the nested load); Mirra keeps adding them up.
      `include ${path.join(dir, 'inc.conf')}`,
      '',
    ].join('\n'),
  );
  const [m, r] = await bothWith(file, (_kind, port, d) => ['--port', String(port), '--logfile', path.join(d, 'server.log'), '--dir', d], 'with space and "quotes"');
  assertSameConfig(m, r, PER_RUN);
  assert.equal(m.get('save'), '900 1 300 10 60 10000');
  assert.equal(m.get('requirepass'), 'with space and "quotes"');
  const [m2, r2] = await bothWith(file, (_kind, port, d) => ['--port', String(port), '--logfile', path.join(d, 'server.log'), '--dir', d, '--save', '', '--requirepass', '']);
  assertSameConfig(m2, r2, PER_RUN);
  assert.equal(m2.get('save'), '');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('seed 002 replica config (trailing comments) starts and points at its master', async () => {
  const port = await freePort();
  const masterPort = await freePort();
  const dir = tempDir();
  const file = path.join(dir, 'replica.conf');
  fs.writeFileSync(
    file,
    [
      '# replicaof <masterip> <masterport>',
      `replicaof 127.0.0.1 ${masterPort} #指定master的IP和端口号`,
      '# masterauth <master-password>',
      'masterauth 123456     #如果密码需要设置',
      '',
    ].join('\n'),
  );
  const p = await startServer('mirra', [file, '--port', String(port), '--dir', dir, '--logfile', path.join(dir, 'server.log')], port);
  const cfg = await configAll(port);
  assert.equal(cfg.get('replicaof'), `127.0.0.1 ${masterPort}`);
  assert.equal(cfg.get('masterauth'), '123456');
  const log = fs.readFileSync(path.join(dir, 'server.log'), 'utf8');
  assert.equal((log.match(/Trailing comment ignored at line (2|4) of /g) ?? []).length, 2);
  await stopServer(p);
  fs.rmSync(dir, { recursive: true, force: true });
});
