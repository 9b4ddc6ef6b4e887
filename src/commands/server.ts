/**
 * Server commands: COMMAND, INFO, CONFIG, TIME, SHUTDOWN, MONITOR, SLOWLOG, LATENCY, MEMORY.
 */
import type { Client } from '../net/client.js';
import type { CommandDef, CommandSpec } from './spec.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { Err } from '../protocol/errors.js';
import { redisMeta, type RespTree } from './meta.js';
import { commandTable, commandKeys } from './table.js';
import { infoText } from '../server/info.js';
import { globMatch } from '../util/glob.js';
import { parseInt64 } from '../util/numbers.js';
import { is } from './args.js';
import { rewriteConfigFile } from '../config/rewrite.js';
import { isLoopback } from '../net/listener.js';

// ---------------------------------------------------------------------------------------------
// COMMAND

/** Writes a captured RESP3 tree in the client's protocol. */
export function writeTree(w: ReplyWriter, t: RespTree): void {
  switch (t.t) {
    case 'simple':
      w.simple(t.v);
      return;
    case 'error':
      w.error(t.v);
      return;
    case 'bulk':
      w.bulk(t.v);
      return;
    case 'double':
      w.doubleText(t.v);
      return;
    case 'int':
      w.int(t.v);
      return;
    case 'bool':
      w.bool(t.v);
      return;
    case 'null':
      w.nullBulk();
      return;
    case 'map':
      w.map(t.v.length / 2);
      break;
    case 'set':
      w.set(t.v.length);
      break;
    case 'push':
      w.push(t.v.length);
      break;
    case 'array':
      w.array(t.v.length);
      break;
  }
  for (const x of t.v) writeTree(w, x);
}

/** COMMAND INFO record for a spec: Redis's captured record, minus unimplemented subcommands. */
function infoTree(spec: CommandSpec): RespTree {
  const meta = redisMeta().commands[spec.name]?.info;
  if (!meta) {
    const flags: RespTree = { t: 'set', v: [...spec.flags].map((f) => ({ t: 'simple', v: f }) as RespTree) };
    return {
      t: 'array',
      v: [
        { t: 'bulk', v: spec.name },
        { t: 'int', v: spec.arity },
        flags,
        { t: 'int', v: spec.firstKey },
        { t: 'int', v: spec.lastKey },
        { t: 'int', v: spec.step },
        { t: 'set', v: spec.acl.map((a) => ({ t: 'simple', v: '@' + a }) as RespTree) },
        { t: 'set', v: [] },
        { t: 'array', v: [] },
        { t: 'array', v: [] },
      ],
    };
  }
  if (!spec.subcommands) return meta;
  const subs = meta.v[9];
  if (!subs || subs.t !== 'array') return meta;
  const kept = subs.v.filter((s) => {
    const full = s.t === 'array' ? (s.v[0] as { v: string }).v : '';
    return spec.subcommands!.has(full.slice(full.indexOf('|') + 1));
  });
  return { t: 'array', v: [...meta.v.slice(0, 9), { t: 'array', v: kept }] };
}

function command(c: Client): void {
  const specs = [...commandTable().byName.values()];
  c.w.array(specs.length);
  for (const s of specs) writeTree(c.w, infoTree(s));
}

function commandCount(c: Client): void {
  c.w.int(commandTable().byName.size);
}

function commandInfo(c: Client, argv: string[]): void {
  const table = commandTable();
  const names = argv.length > 2 ? argv.slice(2) : [...table.byName.keys()];
  c.w.array(names.length);
  for (const n of names) {
    const spec = table.lookup(n);
    if (spec) writeTree(c.w, infoTree(spec));
    else c.w.nullArray();
  }
}

function commandDocs(c: Client, argv: string[]): void {
  const table = commandTable();
  const names = argv.length > 2 ? argv.slice(2) : [...table.byName.keys()];
  const found: [string, RespTree][] = [];
  for (const n of names) {
    const spec = table.lookup(n);
    const docs = spec ? redisMeta().commands[spec.name]?.docs : undefined;
    if (spec && docs) found.push([spec.name, docs]);
  }
  c.w.map(found.length);
  for (const [name, docs] of found) {
    c.w.bulk(name);
    writeTree(c.w, docs);
  }
}

function commandList(c: Client, argv: string[]): void {
  let names = [...commandTable().byName.values()];
  if (argv.length === 5 && is(argv[2]!, 'filterby')) {
    const kind = argv[3]!.toLowerCase();
    const arg = argv[4]!;
    if (kind === 'aclcat') names = names.filter((s) => s.acl.includes(arg.toLowerCase()));
    else if (kind === 'pattern') names = names.filter((s) => globMatch(arg, s.name, true));
    else if (kind === 'module') names = [];
    else {
      c.w.error(Err.syntax);
      return;
    }
  } else if (argv.length !== 2) {
    c.w.error(Err.syntax);
    return;
  }
  c.w.bulkArray(names.map((s) => s.name));
}

function commandGetkeys(c: Client, argv: string[]): void {
  const target = argv.slice(2);
  const spec = commandTable().resolve(target);
  if (!spec) {
    c.w.error('ERR Invalid command specified');
    return;
  }
  if ((spec.arity > 0 && target.length !== spec.arity) || target.length < -spec.arity) {
    c.w.error('ERR Invalid number of arguments specified for command');
    return;
  }
  const keys = commandKeys(spec, target);
  if (keys.length === 0) {
    c.w.error('ERR The command has no key arguments');
    return;
  }
  c.w.bulkArray(keys.map((i) => target[i]!));
}

// ---------------------------------------------------------------------------------------------
// INFO, TIME

function info(c: Client, argv: string[]): void {
  c.w.verbatim(infoText(c.server, argv.slice(1)));
}

function time(c: Client): void {
  const us = BigInt(Date.now()) * 1000n + (process.hrtime.bigint() / 1000n) % 1000n;
  c.w.array(2);
  c.w.bulk(String(us / 1000000n));
  c.w.bulk(String(us % 1000000n));
}

// ---------------------------------------------------------------------------------------------
// CONFIG

function configGet(c: Client, argv: string[]): void {
  const pairs = c.server.config.getMatching(argv.slice(2));
  c.w.map(pairs.length);
  for (const [k, v] of pairs) {
    c.w.bulk(k);
    c.w.bulk(v);
  }
}

function configSet(c: Client, argv: string[]): void {
  if (argv.length % 2 !== 0) {
    c.w.error(Err.wrongArity('config|set'));
    return;
  }
  // Validation, atomicity and error texts live in Config.configSet (src/config/config.ts).
  const cfg = c.server.config;
  const protectedSetting = cfg.str('enable-protected-configs');
  const local = c.flags.unixSocket || isLoopback(c.socket?.remoteAddress);
  const r = cfg.configSet(argv.slice(2), protectedSetting === 'yes' || (protectedSetting === 'local' && local));
  if (r === null) c.w.ok();
  else if (typeof r === 'string') c.w.error(r);
  else {
    // Re-binding listeners (port, bind) completes asynchronously; hold the client meanwhile.
    c.flags.blocked = true;
    void r.then((err) => {
      c.flags.blocked = false;
      if (err === null) c.w.ok();
      else c.w.error(err);
      c.flush();
      c.processInput();
    });
  }
}

function configResetstat(c: Client): void {
  const s = c.server.stats;
  s.connectionsReceived = 0;
  s.commands = 0;
  s.rejectedCalls = 0;
  s.netInputBytes = 0;
  s.netOutputBytes = 0;
  s.expiredKeys = 0;
  s.evictedKeys = 0;
  s.keyspaceHits = 0;
  s.keyspaceMisses = 0;
  s.syncFull = 0;
  s.syncPartialOk = 0;
  s.syncPartialErr = 0;
  s.errorReplies = 0;
  for (const spec of commandTable().byName.values()) {
    spec.stats = { calls: 0, usec: 0, rejected: 0, failed: 0 };
    if (spec.subcommands) for (const sub of spec.subcommands.values()) sub.stats = { calls: 0, usec: 0, rejected: 0, failed: 0 };
  }
  c.server.slowlog.reset();
  c.w.ok();
}

function configRewrite(c: Client): void {
  const file = c.server.config.configFile;
  if (!file) {
    c.w.error('ERR The server is running without a config file');
    return;
  }
  try {
    rewriteConfigFile(c.server.config, file);
    c.server.logger.notice('CONFIG REWRITE executed with success.');
    c.w.ok();
  } catch (e) {
    c.server.logger.warning(`CONFIG REWRITE failed: ${(e as Error).message}`);
    c.w.error(`ERR Rewriting config file: ${(e as Error).message}`);
  }
}

function configHelp(c: Client): void {
  c.w.bulkArray([
    'CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
    'GET <pattern>',
    '    Return parameters matching the glob-like <pattern> and their values.',
    'SET <directive> <value>',
    '    Set the configuration <directive> to <value>.',
    'RESETSTAT',
    '    Reset statistics reported by the INFO command.',
    'REWRITE',
    '    Rewrite the configuration file.',
    'HELP',
    '    Print this help.',
  ]);
}

// ---------------------------------------------------------------------------------------------
// SHUTDOWN, MONITOR

function shutdown(c: Client, argv: string[]): void {
  let mode: 'default' | 'save' | 'nosave' = 'default';
  let now = false;
  let force = false;
  let abort = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!.toLowerCase();
    // A repeated SAVE or NOSAVE is allowed; SAVE with NOSAVE is not (Redis's flag checks).
    if (a === 'nosave' && mode !== 'save') mode = 'nosave';
    else if (a === 'save' && mode !== 'nosave') mode = 'save';
    else if (a === 'nosave' || a === 'save') {
      c.w.error(Err.syntax);
      return;
    } else if (a === 'now') now = true;
    else if (a === 'force') force = true;
    else if (a === 'abort') abort = true;
    else {
      c.w.error(Err.syntax);
      return;
    }
  }
  if (abort && (mode !== 'default' || now || force)) {
    c.w.error(Err.syntax);
    return;
  }
  if (abort) {
    if (c.server.abortShutdown()) c.w.ok();
    else c.w.error('ERR No shutdown in progress.');
    return;
  }
  c.flags.blocked = true;
  void c.server.shutdown({ mode, now, force }).then((ok) => {
    c.flags.blocked = false;
    if (!ok) {
      c.w.error('ERR Errors trying to SHUTDOWN. Check logs.');
      c.flush();
      c.processInput();
    }
  });
}

function monitor(c: Client): void {
  if (c.flags.replica) return;
  if (c.flags.multi) {
    c.w.error('ERR MONITOR not allowed in MULTI');
    return;
  }
  c.flags.monitor = true;
  c.flags.replica = true; // Redis marks monitors as replicas: they get no normal processing
  c.server.monitors.add(c);
  c.w.ok();
}

// ---------------------------------------------------------------------------------------------
// SLOWLOG, LATENCY

function slowlogGet(c: Client, argv: string[]): void {
  let count = 10;
  if (argv.length === 3) {
    const n = parseInt64(argv[2]!);
    if (n === null || n < -1) {
      c.w.error('ERR count should be greater than or equal to -1');
      return;
    }
    count = n === -1 ? c.server.slowlog.entries.length : n;
  }
  const entries = c.server.slowlog.entries.slice(0, count);
  c.w.array(entries.length);
  for (const e of entries) {
    c.w.array(6);
    c.w.int(e.id);
    c.w.int(e.time);
    c.w.int(e.durationUs);
    c.w.bulkArray(e.argv);
    c.w.bulk(e.peer);
    c.w.bulk(e.name);
  }
}

function slowlogLen(c: Client): void {
  c.w.int(c.server.slowlog.entries.length);
}

function slowlogReset(c: Client): void {
  c.server.slowlog.reset();
  c.w.ok();
}

function latencyLatest(c: Client): void {
  c.w.array(0);
}

function latencyHistory(c: Client): void {
  c.w.array(0);
}

function latencyReset(c: Client): void {
  c.w.int(0);
}

export const serverCommands: CommandDef[] = [
  {
    name: 'command',
    handler: command,
    subcommands: [
      { name: 'count', handler: commandCount },
      { name: 'info', handler: commandInfo },
      { name: 'docs', handler: commandDocs },
      { name: 'list', handler: commandList },
      { name: 'getkeys', handler: commandGetkeys },
    ],
  },
  { name: 'info', handler: info },
  { name: 'time', handler: time },
  {
    name: 'config',
    subcommands: [
      { name: 'get', handler: configGet },
      { name: 'set', handler: configSet },
      { name: 'resetstat', handler: configResetstat },
      { name: 'rewrite', handler: configRewrite },
      { name: 'help', handler: configHelp },
    ],
  },
  { name: 'shutdown', handler: shutdown },
  { name: 'monitor', handler: monitor },
  {
    name: 'slowlog',
    subcommands: [
      { name: 'get', handler: slowlogGet },
      { name: 'len', handler: slowlogLen },
      { name: 'reset', handler: slowlogReset },
    ],
  },
  {
    name: 'latency',
    subcommands: [
      { name: 'latest', handler: latencyLatest },
      { name: 'history', handler: latencyHistory },
      { name: 'reset', handler: latencyReset },
    ],
  },
];
