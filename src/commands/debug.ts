/**
 * The debug command family: DEBUG (the subcommands Mirra implements) and MEMORY.
 *
 * DEBUG is a single command whose first argument selects the action; as in Redis each action
 * checks its own argument count and anything else answers
 * `unknown subcommand or wrong number of arguments for '<sub>'. Try DEBUG HELP.`.
 * The dispatcher enforces enable-debug-command. Nothing DEBUG does is propagated (POPULATE
 * creates keys without propagation, as in Redis), except what DEBUG REPLICATE injects.
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';
import type { Value } from '../types/value.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';
import { encodeCommand } from '../protocol/encode.js';
import { datasetDigest, keyValueDigest } from '../server/digest.js';
import { quicklistLayout, quicklistPackedThreshold, setQuicklistPackedThreshold } from '../server/memory.js';
import { stringEncoding, stringRefcount } from '../types/string-encoding.js';
import { RdbOut } from '../persistence/rdb/out.js';
import { writeTypeAndValue } from '../persistence/rdb/writer.js';
import { debugReload } from '../persistence/rdb/index.js';
import { memoryCommand } from './memory.js';

function syntaxError(c: Client, sub: string): void {
  c.w.error(`ERR unknown subcommand or wrong number of arguments for '${sub}'. Try DEBUG HELP.`);
}

const HELP = [
  'DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CHANGE-REPL-ID',
  '    Change the replication IDs of the instance.',
  '    Dangerous: should be used only for testing the replication subsystem.',
  'DIGEST',
  '    Output a hex signature representing the current DB content.',
  'DIGEST-VALUE <key> [<key> ...]',
  '    Output a hex signature of the values of all the specified keys.',
  'ERROR <string>',
  '    Return a Redis protocol error with <string> as message. Useful for clients',
  '    unit tests to simulate Redis errors.',
  'LOG <message>',
  '    Write <message> to the server log.',
  'REPLICATE <string>',
  '    Replicates the provided string to replicas, allowing data divergence.',
  'OBJECT <key>',
  '    Show low level info about `key` and associated value.',
  'POPULATE <count> [<prefix>] [<size>]',
  '    Create <count> string keys named key:<num>. If <prefix> is specified then',
  '    it is used instead of the \'key\' prefix. These are not propagated to',
  '    replicas. Cluster slots are not respected so keys not belonging to the',
  '    current node can be created in cluster mode.',
  'PROTOCOL <type>',
  '    Reply with a test value of the specified type. <type> can be: string,',
  '    integer, double, bignum, null, array, set, map, attrib, push, verbatim,',
  '    true, false.',
  'RELOAD [option ...]',
  '    Save the RDB on disk and reload it back to memory. Valid <option> values:',
  '    * MERGE: conflicting keys will be loaded from RDB.',
  '    * NOFLUSH: the existing database will not be removed before load, but',
  '      conflicting keys will generate an exception and kill the server.',
  '    * NOSAVE: the database will be loaded from an existing RDB file.',
  '    Examples:',
  '    * DEBUG RELOAD: verify that the server is able to persist, flush and reload',
  '      the database.',
  '    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an',
  '      existing RDB file.',
  '    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB',
  '      file to the database.',
  'SET-ACTIVE-EXPIRE <0|1>',
  '    Setting it to 0 disables expiring keys in background when they are not',
  '    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the',
  '    default.',
  'QUICKLIST-PACKED-THRESHOLD <size>',
  '    Sets the threshold for elements to be inserted as plain vs packed nodes',
  '    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.',
  'SLEEP <seconds>',
  '    Stop the server for <seconds>. Decimals allowed.',
  'HELP',
  '    Prints this help.',
];

function hex(d: Buffer): string {
  return d.toString('hex');
}

/** C atoi: optional spaces and sign, then the leading digits; 0 when there are none. */
function atoi(s: string): number {
  const n = Number.parseInt(s, 10);
  return Number.isNaN(n) ? 0 : n;
}

/** C strtod on a prefix (what DEBUG SLEEP uses): 0 when nothing parses. */
function strtod(s: string): number {
  const t = s.trimStart();
  if (/^[+-]?0x/i.test(t)) {
    const v = Number.parseInt(t, 16);
    return Number.isNaN(v) ? 0 : v;
  }
  const v = Number.parseFloat(t);
  return Number.isNaN(v) ? 0 : v;
}

function debug(c: Client, argv: string[]): void {
  const sub = argv[1]!;
  const name = sub.toLowerCase();
  const argc = argv.length;
  switch (name) {
    case 'help':
      if (argc !== 2) break;
      c.w.array(HELP.length);
      for (const line of HELP) c.w.simple(line);
      return;
    case 'digest':
      if (argc !== 2) break;
      c.w.simple(hex(datasetDigest(c.server.keyspace.dbs)));
      return;
    case 'digest-value':
      c.w.array(argc - 2);
      for (let i = 2; i < argc; i++) c.w.simple(hex(keyValueDigest(c.db, argv[i]!)));
      return;
    case 'populate':
      if (argc < 3 || argc > 5) break;
      populate(c, argv);
      return;
    case 'sleep':
      if (argc !== 3) break;
      sleep(c, strtod(argv[2]!));
      return;
    case 'set-active-expire':
      if (argc !== 3) break;
      c.server.activeExpireEnabled = atoi(argv[2]!) !== 0;
      c.w.ok();
      return;
    case 'object':
      if (argc !== 3) break;
      debugObject(c, argv[2]!);
      return;
    case 'change-repl-id':
      if (argc !== 2) break;
      c.server.repl.changeReplicationId();
      c.w.ok();
      return;
    case 'error':
      if (argc !== 3) break;
      // The message is sent verbatim after the '-' (no "ERR " is added).
      c.w.error(argv[2]!);
      return;
    case 'log':
      if (argc !== 3) break;
      c.server.logger.warning(`DEBUG LOG: ${argv[2]!}`);
      c.w.ok();
      return;
    case 'protocol':
      if (argc !== 3) break;
      protocol(c, argv[2]!);
      return;
    case 'reload':
      reload(c, argv);
      return;
    case 'replicate': {
      if (argc < 3) break;
      // Straight into the replication stream (backlog and replicas), never the AOF.
      const cmd = argv.slice(2);
      c.server.repl.feed(c.db.id, cmd, encodeCommand(cmd));
      c.w.ok();
      return;
    }
    case 'quicklist-packed-threshold':
      if (argc !== 3) break;
      packedThreshold(c, argv[2]!);
      return;
  }
  syntaxError(c, sub);
}

/** DEBUG POPULATE count [prefix] [size]: existing keys are skipped; nothing is propagated. */
function populate(c: Client, argv: string[]): void {
  const count = parseInt64(argv[2]!);
  if (count === null || count < 0) {
    c.w.error('ERR value is out of range, must be positive');
    return;
  }
  let size = 0;
  if (argv.length === 5) {
    const s = parseInt64(argv[4]!);
    if (s === null || s < 0) {
      c.w.error('ERR value is out of range, must be positive');
      return;
    }
    size = s;
  }
  // Redis formats names with "%s:%lu" into a 128-byte buffer: the prefix stops at a NUL byte
  // and the name is cut at 127 bytes.
  let prefix = argv.length >= 4 ? argv[3]! : 'key';
  const nul = prefix.indexOf('\0');
  if (nul >= 0) prefix = prefix.slice(0, nul);
  const db = c.db;
  const ks = c.server.keyspace;
  c.server.propagator.prevent();
  for (let j = 0; j < count; j++) {
    let key = `${prefix}:${j}`;
    if (key.length > 127) key = key.slice(0, 127);
    if (db.lookupWrite(key) !== undefined) continue;
    let value = `value:${j}`;
    if (size > 0) value = size <= value.length ? value.slice(0, size) : value + '\0'.repeat(size - value.length);
    db.add(key, value);
    // Redis's signalModifiedKey only: no notification and no dirty increment.
    ks.touch(db, key);
  }
  c.w.ok();
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * DEBUG SLEEP stops the whole server, like Redis's nanosleep: that is its purpose (tests use it
 * to make a server unresponsive), so it blocks the event loop on purpose.
 */
function sleep(c: Client, seconds: number): void {
  const ms = seconds * 1000;
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
  c.server.clock.update();
  c.w.ok();
}

/** rdbSavedObjectLen: bytes of the value's RDB payload (without the type byte). */
function serializedLength(c: Client, v: Value): number {
  const out = new RdbOut(c.server.config.bool('rdbcompression'));
  writeTypeAndValue(out, v, c.server.config);
  return out.length - 1;
}

/**
 * "Value at:" shows an object address in Redis. Mirra has no raw pointers, so it prints a
 * stable per-object token in the same form (per value object; for strings, from the key).
 */
const objectIds = new WeakMap<object, number>();
let nextObjectId = 1;

function valueAddress(key: string, v: Value): string {
  let id: number;
  if (typeof v === 'string') {
    // FNV-1a of the key: strings are values, not objects with an identity.
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
    id = h;
  } else {
    id = objectIds.get(v) ?? nextObjectId++;
    objectIds.set(v, id);
  }
  return '0x' + (0x7f0000000000 + id * 16).toString(16);
}

/** DEBUG OBJECT key: Redis's line, with the quicklist details for lists. */
function debugObject(c: Client, key: string): void {
  const db = c.db;
  // A debugging aid: logically expired keys are shown too (Redis uses dictFind).
  const v = db.dict.get(key);
  if (v === undefined) {
    c.w.error(Err.noSuchKey);
    return;
  }
  const cfg = c.server.config;
  let encoding: string;
  let refcount = 1;
  if (typeof v === 'string') {
    const enc = stringEncoding(db, key, v);
    encoding = enc;
    refcount = stringRefcount(v, enc, cfg);
  } else {
    encoding = v.encoding;
  }
  const now = db.lruClock();
  const lru = db.lruOf(key) ?? now;
  const idle = now >= lru ? now - lru : now + (0xffffff - lru);
  let extra = '';
  if (typeof v !== 'string' && v.type === 'list') {
    const fill = cfg.int('list-max-listpack-size');
    const layout = quicklistLayout(v, fill, quicklistPackedThreshold(c.server));
    const nodes = layout.nodeBytes.length;
    let bytes = 0;
    for (const b of layout.nodeBytes) bytes += b;
    extra =
      ` ql_nodes:${nodes} ql_avg_node:${(layout.count / nodes).toFixed(2)} ql_listpack_max:${fill}` +
      ` ql_compressed:${cfg.int('list-compress-depth') !== 0 ? 1 : 0} ql_uncompressed_size:${bytes}`;
  }
  c.w.simple(
    `Value at:${valueAddress(key, v)} refcount:${refcount} encoding:${encoding} serializedlength:${serializedLength(c, v)} ` +
      `lru:${lru} lru_seconds_idle:${idle}${extra}`,
  );
}

/** DEBUG PROTOCOL type: one test value of each reply type (RESP2 renderings as Redis). */
function protocol(c: Client, type: string): void {
  const w = c.w;
  switch (type.toLowerCase()) {
    case 'string':
      w.bulk('Hello World');
      return;
    case 'integer':
      w.int(12345);
      return;
    case 'double':
      w.double(3.141);
      return;
    case 'bignum':
      w.bigNumber('1234567999999999999999999999999999999');
      return;
    case 'null':
      w.nullBulk();
      return;
    case 'array':
      w.array(3);
      for (let j = 0; j < 3; j++) w.int(j);
      return;
    case 'set':
      w.set(3);
      for (let j = 0; j < 3; j++) w.int(j);
      return;
    case 'map':
      w.map(3);
      for (let j = 0; j < 3; j++) {
        w.int(j);
        w.bool(j === 1);
      }
      return;
    case 'attrib':
      // Attributes exist only in RESP3; the real reply follows them in both protocols.
      if (w.proto === 3) {
        w.rawString('|1\r\n');
        w.bulk('key-popularity');
        w.array(2);
        w.bulk('key:123');
        w.int(90);
      }
      w.bulk('Some real reply following the attribute');
      return;
    case 'push':
      if (w.proto !== 3) {
        w.error('ERR RESP2 is not supported by this command');
        return;
      }
      w.push(2);
      w.bulk('server-cpu-usage');
      w.int(42);
      w.bulk('Some real reply following the push reply');
      return;
    case 'verbatim':
      w.verbatim('This is a verbatim\nstring', 'txt');
      return;
    case 'true':
      w.bool(true);
      return;
    case 'false':
      w.bool(false);
      return;
  }
  w.error(
    'ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false',
  );
}

/**
 * DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, flush, load back (synchronously, as Redis
 * does) through the RDB module, whose errors carry the exact reply text.
 */
function reload(c: Client, argv: string[]): void {
  const opts = { merge: false, noflush: false, nosave: false };
  for (let i = 2; i < argv.length; i++) {
    const o = argv[i]!.toLowerCase();
    if (o === 'merge') opts.merge = true;
    else if (o === 'noflush') opts.noflush = true;
    else if (o === 'nosave') opts.nosave = true;
    else {
      c.w.error('ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.');
      return;
    }
  }
  try {
    debugReload(c.server, opts);
  } catch (e) {
    const msg = e instanceof Error ? e.message : '';
    c.w.error(msg.startsWith('ERR') ? msg : 'ERR Error trying to load the RDB dump, check server logs.');
    return;
  }
  c.server.logger.warning('DB reloaded by DEBUG RELOAD');
  c.w.ok();
}

/** DEBUG QUICKLIST-PACKED-THRESHOLD size (memory units; 0 restores the 1 GB default). */
function packedThreshold(c: Client, arg: string): void {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(arg);
  const units: Record<string, number> = { b: 1, k: 1000, kb: 1024, m: 1e6, mb: 1 << 20, g: 1e9, gb: 1 << 30 };
  const size = m ? Number(m[1]) * units[(m[2] ?? 'b').toLowerCase()]! : NaN;
  // quicklistisSetPackedThreshold: at most 4 GB - 1 MB.
  if (!Number.isFinite(size) || size > 2 ** 32 - 2 ** 20) {
    c.w.error('ERR argument must be a memory value bigger than 1 and smaller than 4gb');
    return;
  }
  setQuicklistPackedThreshold(c.server, size);
  c.w.ok();
}

export const debugCommands: CommandDef[] = [{ name: 'debug', handler: debug }, memoryCommand];
