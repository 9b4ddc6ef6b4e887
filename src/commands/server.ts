/**
 * Server commands: COMMAND, INFO, CONFIG, TIME, SHUTDOWN, MONITOR, SLOWLOG, LATENCY, MEMORY.
 */
import type { Client } from '../net/client.js';
import type { CommandDef, CommandSpec } from './spec.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { Err } from '../protocol/errors.js';
import { redisMeta, type RespTree } from './meta.js';
import { commandTable } from './table.js';
import { infoText } from '../server/info.js';
import { globMatch } from '../util/glob.js';
import { parseInt64 } from '../util/numbers.js';
import { is } from './args.js';
import { rewriteConfigFile } from '../config/rewrite.js';
import { isLoopback } from '../net/listener.js';
import { REDIS_VERSION } from '../server/server.js';
import { commandLatencyCdf } from './latency-histogram.js';

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
    else c.w.nullBulk(); // addReplyNull
  }
}

/** A container's docs without the subcommands Mirra does not implement (as COMMAND INFO). */
function implementedDocs(spec: CommandSpec, docs: RespTree): RespTree {
  if (docs.t !== 'map') return docs;
  const v = docs.v.slice();
  for (let i = 0; i + 1 < v.length; i += 2) {
    const subs = v[i + 1]!;
    if ((v[i] as { v: unknown }).v !== 'subcommands' || subs.t !== 'map') continue;
    const kept: RespTree[] = [];
    for (let j = 0; j + 1 < subs.v.length; j += 2) {
      const full = (subs.v[j] as { v: string }).v;
      if (spec.subcommands!.has(full.slice(full.indexOf('|') + 1))) kept.push(subs.v[j]!, subs.v[j + 1]!);
    }
    v[i + 1] = { t: 'map', v: kept };
  }
  return { t: 'map', v };
}

function commandDocs(c: Client, argv: string[]): void {
  const table = commandTable();
  const names = argv.length > 2 ? argv.slice(2) : [...table.byName.keys()];
  const found: [string, RespTree][] = [];
  for (const n of names) {
    const spec = table.lookup(n);
    const docs = spec ? redisMeta().commands[spec.name]?.docs : undefined;
    if (spec && docs) found.push([spec.name, spec.subcommands ? implementedDocs(spec, docs) : docs]);
  }
  c.w.map(found.length);
  for (const [name, docs] of found) {
    c.w.bulk(name);
    writeTree(c.w, docs);
  }
}

/** Every command and subcommand (Redis's COMMAND LIST walks the subcommand tables too). */
function allSpecs(): CommandSpec[] {
  const out: CommandSpec[] = [];
  for (const s of commandTable().byName.values()) {
    out.push(s);
    if (s.subcommands) for (const sub of s.subcommands.values()) out.push(sub);
  }
  return out;
}

function commandList(c: Client, argv: string[]): void {
  let specs = allSpecs();
  if (argv.length === 5 && is(argv[2]!, 'filterby')) {
    const kind = argv[3]!.toLowerCase();
    const arg = argv[4]!;
    if (kind === 'aclcat') specs = specs.filter((s) => s.acl.includes(arg.toLowerCase()));
    else if (kind === 'pattern') specs = specs.filter((s) => globMatch(arg, s.fullName, true));
    else if (kind === 'module') specs = [];
    else {
      c.w.error(Err.syntax);
      return;
    }
  } else if (argv.length !== 2) {
    c.w.error(Err.syntax);
    return;
  }
  c.w.bulkArray(specs.map((s) => s.fullName));
}

/** One key found by COMMAND GETKEYS[ANDFLAGS]: its argv index and its key-spec flags. */
interface KeyRef {
  pos: number;
  flags: RespTree;
}

interface ParsedKeySpec {
  flags: RespTree;
  notKey: boolean;
  incomplete: boolean;
  variableFlags: boolean;
  begin: { type: 'index'; index: number } | { type: 'keyword'; keyword: string; startfrom: number } | { type: 'unknown' };
  find:
    | { type: 'range'; lastkey: number; keystep: number; limit: number }
    | { type: 'keynum'; keynumidx: number; firstkey: number; keystep: number }
    | { type: 'unknown' };
}

function mapGet(t: RespTree | undefined, key: string): RespTree | undefined {
  if (!t || t.t !== 'map') return undefined;
  for (let i = 0; i + 1 < t.v.length; i += 2) if ((t.v[i] as { v: unknown }).v === key) return t.v[i + 1];
  return undefined;
}

function mapInt(t: RespTree | undefined, key: string): number {
  const v = mapGet(t, key);
  return v && v.t === 'int' ? v.v : 0;
}

function mapStr(t: RespTree | undefined, key: string): string {
  const v = mapGet(t, key);
  return v && (v.t === 'bulk' || v.t === 'simple') ? v.v : '';
}

const keySpecCache = new WeakMap<CommandSpec, ParsedKeySpec[]>();

/** The command's key specs from Redis's captured COMMAND INFO record. */
function keySpecsOf(spec: CommandSpec): ParsedKeySpec[] {
  let specs = keySpecCache.get(spec);
  if (specs !== undefined) return specs;
  let info: RespTree | undefined = redisMeta().commands[spec.parent ? spec.parent.name : spec.name]?.info;
  if (info && spec.parent && info.t === 'array') {
    const subs = info.v[9];
    info = subs && subs.t === 'array' ? subs.v.find((x) => x.t === 'array' && (x.v[0] as { v: string }).v === spec.fullName) : undefined;
  }
  specs = [];
  const list = info && info.t === 'array' ? info.v[8] : undefined;
  if (list && (list.t === 'set' || list.t === 'array')) {
    for (const ks of list.v) {
      const flags = mapGet(ks, 'flags') ?? { t: 'set', v: [] };
      const names = flags.t === 'set' || flags.t === 'array' ? flags.v.map((f) => (f as { v: string }).v) : [];
      const bs = mapGet(ks, 'begin_search');
      const fk = mapGet(ks, 'find_keys');
      const bsType = mapStr(bs, 'type');
      const fkType = mapStr(fk, 'type');
      const bsSpec = mapGet(bs, 'spec');
      const fkSpec = mapGet(fk, 'spec');
      specs.push({
        flags,
        notKey: names.includes('not_key'),
        incomplete: names.includes('incomplete'),
        variableFlags: names.includes('variable_flags'),
        begin:
          bsType === 'index'
            ? { type: 'index', index: mapInt(bsSpec, 'index') }
            : bsType === 'keyword'
              ? { type: 'keyword', keyword: mapStr(bsSpec, 'keyword'), startfrom: mapInt(bsSpec, 'startfrom') }
              : { type: 'unknown' },
        find:
          fkType === 'range'
            ? { type: 'range', lastkey: mapInt(fkSpec, 'lastkey'), keystep: mapInt(fkSpec, 'keystep'), limit: mapInt(fkSpec, 'limit') }
            : fkType === 'keynum'
              ? { type: 'keynum', keynumidx: mapInt(fkSpec, 'keynumidx'), firstkey: mapInt(fkSpec, 'firstkey'), keystep: mapInt(fkSpec, 'keystep') }
              : { type: 'unknown' },
      });
    }
  }
  keySpecCache.set(spec, specs);
  return specs;
}

/** getKeysUsingKeySpecs: the keys the specs find, or null when a spec is invalid or incomplete. */
function keysFromSpecs(specs: ParsedKeySpec[], argv: string[], arity: number): KeyRef[] | null {
  const argc = argv.length;
  const keys: KeyRef[] = [];
  for (const ks of specs) {
    if (ks.notKey) continue;
    let first = 0;
    const b = ks.begin;
    if (b.type === 'index') first = b.index;
    else if (b.type === 'keyword') {
      const start = b.startfrom > 0 ? b.startfrom : argc + b.startfrom;
      const end = b.startfrom > 0 ? argc - 1 : 1;
      for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (argv[i]!.toLowerCase() === b.keyword.toLowerCase()) {
          first = i + 1;
          break;
        }
      }
      if (first === 0) continue; // keyword not found
    } else return null;
    let last: number;
    let step: number;
    const f = ks.find;
    if (f.type === 'range') {
      step = f.keystep;
      if (f.lastkey >= 0) last = first + f.lastkey;
      else if (f.limit === 0) last = argc + f.lastkey;
      else last = first + (Math.trunc((argc - first) / f.limit) + f.lastkey);
    } else if (f.type === 'keynum') {
      step = f.keystep;
      if (f.keynumidx >= argc) return null;
      const numkeys = parseInt64(argv[first + f.keynumidx] ?? '');
      if (numkeys === null || numkeys < 0) return null;
      first += f.firstkey;
      last = first + numkeys - 1;
    } else return null;
    if (last >= argc || last < first || first >= argc) return null;
    for (let i = first; i <= last; i += step) {
      if (i >= argc || i < first) {
        if (arity < 0) continue;
        return null;
      }
      keys.push({ pos: i, flags: ks.flags });
    }
    if (ks.incomplete) return null;
  }
  return keys;
}

function keyFlags(...names: string[]): RespTree {
  return { t: 'set', v: names.map((v) => ({ t: 'simple', v }) as RespTree) };
}

/**
 * The getkeys procedures Redis falls back to when the key specs cannot answer (SORT's STORE,
 * SET's and BITFIELD's access that depends on the arguments). Other commands' procedures find
 * no keys exactly where their specs are invalid.
 */
function keysFromProc(spec: CommandSpec, argv: string[]): KeyRef[] {
  const argc = argv.length;
  switch (spec.fullName) {
    case 'set': {
      for (let i = 3; i < argc; i++) if (argv[i]!.toLowerCase() === 'get') return [{ pos: 1, flags: keyFlags('RW', 'access', 'update') }];
      return [{ pos: 1, flags: keyFlags('OW', 'update') }];
    }
    case 'bitfield': {
      let readonly = true;
      for (let i = 2; i < argc; i++) {
        const rem = argc - i - 1;
        const a = argv[i]!.toLowerCase();
        if (a === 'get' && rem >= 2) i += 2;
        else if ((a === 'set' || a === 'incrby') && rem >= 3) {
          readonly = false;
          break;
        } else if (a === 'overflow' && rem >= 1) i += 1;
        else {
          readonly = false; // a syntax error: safer to assume a write
          break;
        }
      }
      return [{ pos: 1, flags: readonly ? keyFlags('RO', 'access') : keyFlags('RW', 'access', 'update') }];
    }
    case 'sort':
    case 'sort_ro': {
      const keys: KeyRef[] = [{ pos: 1, flags: keyFlags('RO', 'access') }];
      let store: KeyRef | null = null;
      for (let i = 2; i < argc; i++) {
        const a = argv[i]!.toLowerCase();
        if (a === 'limit') i += 2;
        else if (a === 'get' || a === 'by') i += 1;
        else if (a === 'store' && i + 1 < argc) store = { pos: i + 1, flags: keyFlags('OW', 'update') }; // the last STORE wins
      }
      if (store !== null) keys.push(store);
      return keys;
    }
    default:
      return [];
  }
}

const PROC_KEYS = new Set(['set', 'bitfield', 'sort', 'sort_ro']);

/**
 * getKeysSubcommandImpl: COMMAND GETKEYS / GETKEYSANDFLAGS with Redis's checks in order and its
 * key extraction (key specs first, the command's own procedure when they cannot tell).
 */
function getKeysSubcommand(c: Client, argv: string[], withFlags: boolean): void {
  const target = argv.slice(2);
  const spec = commandTable().resolve(target);
  if (!spec) {
    c.w.error('ERR Invalid command specified');
    return;
  }
  const specs = keySpecsOf(spec);
  const hasKeySpec = specs.some((k) => !k.notKey);
  if (!hasKeySpec && !PROC_KEYS.has(spec.fullName)) {
    c.w.error('ERR The command has no key arguments');
    return;
  }
  if ((spec.arity > 0 && target.length !== spec.arity) || target.length < -spec.arity) {
    c.w.error('ERR Invalid number of arguments specified for command');
    return;
  }
  let keys: KeyRef[] | null = null;
  if (hasKeySpec && !specs.some((k) => k.variableFlags)) keys = keysFromSpecs(specs, target, spec.arity);
  keys ??= keysFromProc(spec, target);
  if (keys.length === 0) {
    if (spec.flags.has('no_mandatory_keys')) c.w.array(0);
    else c.w.error('ERR Invalid arguments specified for command');
    return;
  }
  c.w.array(keys.length);
  for (const k of keys) {
    if (!withFlags) {
      c.w.bulk(target[k.pos]!);
      continue;
    }
    c.w.array(2);
    c.w.bulk(target[k.pos]!);
    writeTree(c.w, k.flags);
  }
}

function commandGetkeys(c: Client, argv: string[]): void {
  getKeysSubcommand(c, argv, false);
}

function commandGetkeysandflags(c: Client, argv: string[]): void {
  getKeysSubcommand(c, argv, true);
}

/** addReplyHelp: the lines as status replies, framed by Redis's header and HELP entry. */
function writeHelp(c: Client, command: string, lines: readonly string[]): void {
  c.w.array(lines.length + 3);
  c.w.simple(`${command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const l of lines) c.w.simple(l);
  c.w.simple('HELP');
  c.w.simple('    Prints this help.');
}

function commandHelp(c: Client): void {
  writeHelp(c, 'COMMAND', [
    '(no subcommand)',
    '    Return details about all Redis commands.',
    'COUNT',
    '    Return the total number of commands in this Redis server.',
    'LIST',
    '    Return a list of all commands in this Redis server.',
    'INFO [<command-name> ...]',
    '    Return details about multiple Redis commands.',
    '    If no command names are given, documentation details for all',
    '    commands are returned.',
    'DOCS [<command-name> ...]',
    '    Return documentation details about multiple Redis commands.',
    '    If no command names are given, documentation details for all',
    '    commands are returned.',
    'GETKEYS <full-command>',
    '    Return the keys from a full Redis command.',
    'GETKEYSANDFLAGS <full-command>',
    '    Return the keys and the access flags from a full Redis command.',
  ]);
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
    c.w.error(Err.syntax); // an odd number of arguments: not name/value pairs
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
  writeHelp(c, 'CONFIG', [
    'GET <pattern>',
    '    Return parameters matching the glob-like <pattern> and their values.',
    'SET <directive> <value>',
    '    Set the configuration <directive> to <value>.',
    'RESETSTAT',
    '    Reset statistics reported by the INFO command.',
    'REWRITE',
    '    Rewrite the configuration file.',
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
  if (argv.length > 3) {
    c.w.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try SLOWLOG HELP.`);
    return;
  }
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

function slowlogHelp(c: Client): void {
  writeHelp(c, 'SLOWLOG', [
    'GET [<count>]',
    '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
    '    Entries are made of:',
    '    id, timestamp, time in microseconds, arguments array, client IP and port,',
    '    client name',
    'LEN',
    '    Return the length of the slowlog.',
    'RESET',
    '    Reset the slowlog.',
  ]);
}

// Mirra has no latency monitor (no event samples are ever collected): LATEST/HISTORY are empty,
// GRAPH has no samples, and DOCTOR gives Redis's reports for that state.

function latencyLatest(c: Client): void {
  c.w.array(0);
}

function latencyHistory(c: Client): void {
  c.w.array(0);
}

function latencyReset(c: Client): void {
  c.w.int(0);
}

function latencyGraph(c: Client, argv: string[]): void {
  c.w.error(`ERR No samples available for event '${argv[2]}'`);
}

function latencyDoctor(c: Client): void {
  if (c.server.config.int('latency-monitor-threshold') === 0) {
    c.w.verbatim(
      "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n",
    );
  } else {
    c.w.verbatim(
      'Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n',
    );
  }
}

/** lookupCommandBySds: "get" or "config|get". */
function lookupBySds(name: string): CommandSpec | undefined {
  const parts = name.split('|');
  if (parts.length > 2) return undefined;
  const top = commandTable().lookup(parts[0]!);
  if (parts.length === 1 || top === undefined) return top;
  return top.subcommands?.get(parts[1]!.toLowerCase());
}

/**
 * LATENCY HISTOGRAM [command ...]: per-command cumulative latency distributions, recorded by
 * call() (latency-histogram.ts). Named containers include their subcommands; unknown names and
 * commands never called are skipped, as in Redis.
 */
function latencyHistogram(c: Client, argv: string[]): void {
  const found: [string, { calls: number; buckets: [number, number][] }][] = [];
  const add = (s: CommandSpec): void => {
    const cdf = commandLatencyCdf(s.stats);
    if (cdf !== null) found.push([s.fullName, cdf]);
  };
  if (argv.length === 2) for (const s of allSpecs()) add(s);
  else {
    for (const name of argv.slice(2)) {
      const s = lookupBySds(name);
      if (s === undefined) continue;
      add(s);
      if (s.subcommands) for (const sub of s.subcommands.values()) add(sub);
    }
  }
  const w = c.w;
  w.map(found.length);
  for (const [name, cdf] of found) {
    w.bulk(name);
    w.map(2);
    w.bulk('calls');
    w.int(cdf.calls);
    w.bulk('histogram_usec');
    w.map(cdf.buckets.length);
    for (const [us, n] of cdf.buckets) {
      w.int(us);
      w.int(n);
    }
  }
}

function latencyHelp(c: Client): void {
  writeHelp(c, 'LATENCY', [
    'DOCTOR',
    '    Return a human readable latency analysis report.',
    'GRAPH <event>',
    '    Return an ASCII latency graph for the <event> class.',
    'HISTORY <event>',
    '    Return time-latency samples for the <event> class.',
    'LATEST',
    '    Return the latest latency samples for all events.',
    'RESET [<event> ...]',
    '    Reset latency data of one or more <event> classes.',
    '    (default: reset all data for all event classes)',
    'HISTOGRAM [COMMAND ...]',
    '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
    '    If no commands are specified then all histograms are replied.',
  ]);
}

// ---------------------------------------------------------------------------------------------
// LOLWUT

/**
 * LOLWUT [VERSION v] [args...]: 7.0 prints "Redis ver. <version>"; VERSION 5 draws Georg Nees's
 * "Schotter" in Braille, VERSION 6 an 8-bit city skyline in terminal colours. Both are random, so
 * every call differs, as in Redis.
 */
function lolwut(c: Client, argv: string[]): void {
  let version = REDIS_VERSION;
  let args = argv.slice(1);
  if (argv.length >= 3 && is(argv[1]!, 'version')) {
    const v = parseInt64(argv[2]!);
    if (v === null) {
      c.w.error(Err.notInteger);
      return;
    }
    version = `${Number(BigInt.asUintN(32, BigInt(v)))}.0.0`;
    args = argv.slice(3);
  }
  if ((version[0] === '5' && version[1] === '.' && version[2] !== '9') || (version[0] === '4' && version[1] === '.' && version[2] === '9')) {
    lolwut5(c, args);
  } else if ((version[0] === '6' && version[1] === '.' && version[2] !== '9') || (version[0] === '5' && version[1] === '.' && version[2] === '9')) {
    lolwut6(c, args);
  } else {
    c.w.verbatim(`Redis ver. ${REDIS_VERSION}\n`);
  }
}

/** lolwut5Command: [cols [squares-per-row [squares-per-col]]], clamped like Redis. */
function lolwut5(c: Client, args: string[]): void {
  const limits: [number, number, number][] = [
    [66, 1, 1000],
    [8, 1, 200],
    [12, 1, 200],
  ];
  const vals: number[] = [];
  for (let i = 0; i < 3; i++) {
    let v = limits[i]![0];
    if (args.length > i) {
      const n = parseInt64(args[i]!);
      if (n === null) {
        c.w.error(Err.notInteger);
        return;
      }
      v = Math.min(Math.max(n, limits[i]![1]), limits[i]![2]);
    }
    vals.push(v);
  }
  const canvas = drawSchotter(vals[0]!, vals[1]!, vals[2]!);
  c.w.verbatim(`${renderBraille(canvas)}\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ${REDIS_VERSION}\n`);
}

/** lolwut6Command: [cols [rows]], clamped to 1..1000 like Redis. */
function lolwut6(c: Client, args: string[]): void {
  const dims = [80, 20];
  for (let i = 0; i < 2 && i < args.length; i++) {
    const n = parseInt64(args[i]!);
    if (n === null) {
      c.w.error(Err.notInteger);
      return;
    }
    dims[i] = Math.min(Math.max(n, 1), 1000);
  }
  const cv: Canvas = { width: dims[0]!, height: dims[1]!, pixels: new Uint8Array(dims[0]! * dims[1]!).fill(3) };
  drawSkyline(cv);
  c.w.verbatim(
    `${renderGrays(cv)}\nDedicated to the 8 bit game developers of past and present.\n` +
      `Original 8 bit image from Plaguemon by hikikomori. Redis ver. ${REDIS_VERSION}\n`,
  );
}

/** One building from the bottom row up: a narrower roof, optional random two-pixel windows. */
function drawSkyscraper(cv: Canvas, xoff: number, width: number, height: number, windows: boolean, color: number): void {
  const starty = cv.height - 1;
  const endy = starty - height + 1;
  for (let y = starty; y >= endy; y--) {
    for (let x = xoff; x < xoff + width; x++) {
      if (y === endy && (x <= xoff + 1 || x >= xoff + width - 2)) continue;
      let col = color;
      if (windows && x > xoff + 1 && x < xoff + width - 2 && y > endy + 1 && y < starty - 1) {
        const relx = x - (xoff + 1);
        const rely = y - (endy + 1);
        // Windows are two pixels wide and one tall (terminal cells are not square).
        if (Math.trunc(relx / 2) % 2 && rely % 2) {
          do col = 1 + (rand() % 2);
          while (col === color);
          if (relx % 2) col = getPixel(cv, x - 1, y);
        }
      }
      if (x >= 0 && x < cv.width && y >= 0 && y < cv.height) cv.pixels[x + y * cv.width] = col;
    }
  }
}

/** Two rows of window-less background buildings (lighter behind), then the foreground. */
function drawSkyline(cv: Canvas): void {
  const h = cv.height;
  for (let color = 2; color >= 1; color--) {
    for (let offset = -10; offset < cv.width; ) {
      offset += rand() % 8;
      const width = 10 + (rand() % 9);
      const height = Math.trunc(h / 2) + Math.trunc((rand() % h) / (color === 2 ? 2 : 3));
      drawSkyscraper(cv, offset, width, height, false, color);
      offset += color === 2 ? Math.trunc(width / 2) : width + 1;
    }
  }
  for (let offset = -10; offset < cv.width; ) {
    offset += rand() % 8;
    let width = 5 + (rand() % 14);
    if (width % 4) width += width % 3;
    const height = Math.trunc(h / 3) + Math.trunc((rand() % h) / 2);
    drawSkyscraper(cv, offset, width, height, true, 0);
    offset += width + 5;
  }
}

/** Each pixel is a space in one of the four gray levels of a colour terminal. */
function renderGrays(cv: Canvas): string {
  const escapes = ['0;30;40m', '0;90;100m', '0;37;47m', '0;97;107m'];
  let out = '';
  for (let y = 0; y < cv.height; y++) {
    for (let x = 0; x < cv.width; x++) out += `\x1b[${escapes[cv.pixels[x + y * cv.width]!] ?? escapes[0]} \x1b[0m`;
    if (y !== cv.height - 1) out += '\n';
  }
  return out;
}

interface Canvas {
  width: number;
  height: number;
  pixels: Uint8Array;
}

function setPixel(cv: Canvas, x: number, y: number): void {
  if (x < 0 || x >= cv.width || y < 0 || y >= cv.height) return;
  cv.pixels[x + y * cv.width] = 1;
}

function getPixel(cv: Canvas, x: number, y: number): number {
  if (x < 0 || x >= cv.width || y < 0 || y >= cv.height) return 0;
  return cv.pixels[x + y * cv.width]!;
}

/** Bresenham's line, pixel by pixel. */
function drawLine(cv: Canvas, x1: number, y1: number, x2: number, y2: number): void {
  const dx = Math.abs(x2 - x1);
  const dy = Math.abs(y2 - y1);
  const sx = x1 < x2 ? 1 : -1;
  const sy = y1 < y2 ? 1 : -1;
  let err = dx - dy;
  for (;;) {
    setPixel(cv, x1, y1);
    if (x1 === x2 && y1 === y2) break;
    const e2 = err * 2;
    if (e2 > -dy) {
      err -= dy;
      x1 += sx;
    }
    if (e2 < dx) {
      err += dx;
      y1 += sy;
    }
  }
}

/** A square of side `size` centred on (x, y) and rotated by `angle` radians. */
function drawSquare(cv: Canvas, x: number, y: number, size: number, angle: number): void {
  // The square inscribed in a circle of radius 1 has side sqrt(2).
  const r = Math.round(Math.fround(size / 1.4142135623));
  const px: number[] = [];
  const py: number[] = [];
  let k = Math.fround(Math.PI / 4 + angle);
  for (let j = 0; j < 4; j++) {
    px.push(Math.round(Math.sin(k) * r + x));
    py.push(Math.round(Math.cos(k) * r + y));
    k = Math.fround(k + Math.PI / 2);
  }
  for (let j = 0; j < 4; j++) drawLine(cv, px[j]!, py[j]!, px[(j + 1) % 4]!, py[(j + 1) % 4]!);
}

/** C rand() / RAND_MAX stand-in: a random integer in [0, 2^31 - 1]. */
function rand(): number {
  return Math.floor(Math.random() * 2147483648);
}

/** Rows of squares, more and more displaced and rotated towards the bottom. */
function drawSchotter(cols: number, perRow: number, perCol: number): Canvas {
  const width = cols * 2;
  const padding = width > 4 ? 2 : 0;
  const side = Math.fround((width - padding * 2) / perRow);
  const height = Math.trunc(side * perCol + padding * 2);
  const cv: Canvas = { width, height, pixels: new Uint8Array(width * height) };
  for (let y = 0; y < perCol; y++) {
    for (let x = 0; x < perRow; x++) {
      let sx = Math.trunc(x * side + side / 2 + padding);
      let sy = Math.trunc(y * side + side / 2 + padding);
      let angle = 0;
      if (y > 1) {
        let r1 = Math.fround((rand() / 2147483647 / perCol) * y);
        let r2 = Math.fround((rand() / 2147483647 / perCol) * y);
        let r3 = Math.fround((rand() / 2147483647 / perCol) * y);
        if (rand() % 2) r1 = -r1;
        if (rand() % 2) r2 = -r2;
        if (rand() % 2) r3 = -r3;
        angle = r1;
        sx = Math.trunc(sx + (r2 * side) / 3);
        sy = Math.trunc(sy + (r3 * side) / 3);
      }
      drawSquare(cv, sx, sy, side, angle);
    }
  }
  return cv;
}

/** Each 2x4 block of pixels becomes one Braille character (U+2800 + dot bits), UTF-8 encoded. */
function renderBraille(cv: Canvas): string {
  let out = '';
  for (let y = 0; y < cv.height; y += 4) {
    for (let x = 0; x < cv.width; x += 2) {
      const bits =
        getPixel(cv, x, y) |
        (getPixel(cv, x, y + 1) << 1) |
        (getPixel(cv, x, y + 2) << 2) |
        (getPixel(cv, x + 1, y) << 3) |
        (getPixel(cv, x + 1, y + 1) << 4) |
        (getPixel(cv, x + 1, y + 2) << 5) |
        (getPixel(cv, x, y + 3) << 6) |
        (getPixel(cv, x + 1, y + 3) << 7);
      const code = 0x2800 + bits;
      out += String.fromCharCode(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
    }
    if (y !== cv.height - 1) out += '\n';
  }
  return out;
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
      { name: 'getkeysandflags', handler: commandGetkeysandflags },
      { name: 'help', handler: commandHelp },
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
  { name: 'lolwut', handler: lolwut },
  {
    name: 'slowlog',
    subcommands: [
      { name: 'get', handler: slowlogGet },
      { name: 'len', handler: slowlogLen },
      { name: 'reset', handler: slowlogReset },
      { name: 'help', handler: slowlogHelp },
    ],
  },
  {
    name: 'latency',
    subcommands: [
      { name: 'latest', handler: latencyLatest },
      { name: 'history', handler: latencyHistory },
      { name: 'reset', handler: latencyReset },
      { name: 'graph', handler: latencyGraph },
      { name: 'doctor', handler: latencyDoctor },
      { name: 'histogram', handler: latencyHistogram },
      { name: 'help', handler: latencyHelp },
    ],
  },
];
