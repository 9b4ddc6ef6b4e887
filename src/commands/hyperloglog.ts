/**
 * The HyperLogLog command family (Redis hyperloglog.c): PFADD PFCOUNT PFMERGE PFDEBUG
 * PFSELFTEST. The data structure itself (Redis's exact bytes) is in types/hll.ts.
 *
 * An HLL is an ordinary string value, so every command first checks that the string is one
 * (`WRONGTYPE Key is not a valid HyperLogLog string value.`), and a sparse HLL whose opcodes do
 * not add up answers `INVALIDOBJ Corrupted HLL object detected`.
 *
 * What changes and what is propagated follows Redis 7.0:
 *  - PFADD counts one dirty change per register it raised (+1 for creating the key) and sends
 *    the `pfadd` event; PFMERGE always writes its destination (one change, event `pfadd`).
 *  - PFCOUNT of one key stores the freshly computed cardinality in the header when the cache
 *    was stale: the value changed, so WATCH fires and the command is propagated as sent, but no
 *    keyspace event is sent (the command is flagged read-only).
 *  - PFDEBUG GETREG/TODENSE converting a sparse HLL count a change (propagated) without
 *    signalling the key (server.dirty++ only, as Redis).
 * Every command that takes the value for writing leaves it `raw` (dbUnshareStringValue), even
 * when nothing changed; HLLs created here are raw too (createObject, never embstr).
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';
import { Err } from '../protocol/errors.js';
import { lookupKeyRead } from './keys-lookup.js';
import { setStringEncoding } from '../types/string-encoding.js';
import {
  Hll,
  HLL_DENSE,
  HLL_REGISTERS,
  HLL_SPARSE,
  INVALID_HLL_ERR,
  NOT_HLL_ERR,
  cachedCard,
  cardReply,
  countRegisters,
  HllSelfTest,
  isHllString,
} from '../types/hll.js';

/**
 * isHLLObjectOrReply: the value as an HLL string, or null after replying (WRONGTYPE for another
 * type, the HLL-specific WRONGTYPE for a string that is not an HLL).
 */
function hllValueOrReply(c: Client, v: unknown): string | null {
  if (typeof v !== 'string') {
    c.w.error(Err.wrongType);
    return null;
  }
  if (!isHllString(v)) {
    c.w.error(NOT_HLL_ERR);
    return null;
  }
  return v;
}

function sparseMaxBytes(c: Client): number {
  return c.server.config.int('hll-sparse-max-bytes');
}

/** dbUnshareStringValue: the value is a private raw sds from now on. */
function markRaw(c: Client, key: string, value: string): void {
  setStringEncoding(c.server.keyspace, c.db, key, value, 'raw');
}

// ---------------------------------------------------------------------------------------------
// PFADD

function pfaddCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const db = c.db;
  const o = db.lookupWrite(key);
  let hll: Hll;
  let updated = 0;
  const created = o === undefined;
  if (created) {
    hll = Hll.empty();
    updated++;
  } else {
    const v = hllValueOrReply(c, o);
    if (v === null) return;
    hll = Hll.fromString(v);
  }
  const maxBytes = sparseMaxBytes(c);
  let corrupted = false;
  for (let j = 2; j < argv.length; j++) {
    const r = hll.add(argv[j]!, maxBytes);
    if (r === 1) {
      updated++;
    } else if (r === -1) {
      corrupted = true;
      break;
    }
  }
  if (updated && !corrupted) hll.invalidateCache();
  // Redis edits the value in place: registers raised before a corruption was met stay raised
  // (but nothing is signalled or propagated then).
  const value = updated > 0 ? hll.toString() : (o as string);
  if (created) db.add(key, value);
  else if (updated > 0) db.set(key, value, true);
  if (corrupted) {
    markRaw(c, key, value);
    c.w.error(INVALID_HLL_ERR);
    return;
  }
  if (updated) c.server.keyspace.changed(db, key, '$', 'pfadd', updated);
  markRaw(c, key, value);
  c.w.int(updated ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// PFCOUNT

function pfcountCommand(c: Client, argv: string[]): void {
  if (argv.length > 2) {
    // The cardinality of the union: registers merged into one byte per register.
    const max = new Uint8Array(HLL_REGISTERS);
    for (let j = 1; j < argv.length; j++) {
      const o = lookupKeyRead(c, argv[j]!);
      if (o === undefined) continue;
      const v = hllValueOrReply(c, o);
      if (v === null) return;
      if (!Hll.fromString(v).mergeInto(max)) {
        c.w.error(INVALID_HLL_ERR);
        return;
      }
    }
    c.w.int(cardReply(countRegisters(max)));
    return;
  }
  const key = argv[1]!;
  const o = lookupKeyRead(c, key);
  if (o === undefined) {
    c.w.int(0);
    return;
  }
  const v = hllValueOrReply(c, o);
  if (v === null) return;
  const db = c.db;
  const cached = cachedCard(v);
  if (cached !== null) {
    markRaw(c, key, v);
    c.w.int(cardReply(cached));
    return;
  }
  const hll = Hll.fromString(v);
  const card = hll.count();
  if (card === null) {
    markRaw(c, key, v);
    c.w.error(INVALID_HLL_ERR);
    return;
  }
  hll.setCachedCard(card);
  const value = hll.toString();
  db.set(key, value, true);
  // The cache lives in the value: it changed (WATCH, propagation), without a keyspace event.
  c.server.keyspace.changed(db, key, '$', '');
  markRaw(c, key, value);
  c.w.int(cardReply(card));
}

// ---------------------------------------------------------------------------------------------
// PFMERGE

function pfmergeCommand(c: Client, argv: string[]): void {
  const max = new Uint8Array(HLL_REGISTERS);
  let useDense = false;
  for (let j = 1; j < argv.length; j++) {
    const o = lookupKeyRead(c, argv[j]!);
    if (o === undefined) continue;
    const v = hllValueOrReply(c, o);
    if (v === null) return;
    const hll = Hll.fromString(v);
    // A dense source makes the destination dense at once (no sparse → dense conversion later).
    if (hll.encoding === HLL_DENSE) useDense = true;
    if (!hll.mergeInto(max)) {
      c.w.error(INVALID_HLL_ERR);
      return;
    }
  }
  const key = argv[1]!;
  const db = c.db;
  const o = db.lookupWrite(key);
  // The destination was checked as a source: it is missing or a valid HLL string.
  const created = o === undefined;
  const hll = created ? Hll.empty() : Hll.fromString(o as string);
  if (useDense && !hll.toDense()) {
    c.w.error(INVALID_HLL_ERR);
    return;
  }
  const maxBytes = sparseMaxBytes(c);
  for (let j = 0; j < HLL_REGISTERS; j++) {
    const m = max[j]!;
    if (m !== 0) hll.set(j, m, maxBytes);
  }
  hll.invalidateCache();
  const value = hll.toString();
  if (created) db.add(key, value);
  else db.set(key, value, true);
  c.server.keyspace.changed(db, key, '$', 'pfadd');
  markRaw(c, key, value);
  c.w.ok();
}

// ---------------------------------------------------------------------------------------------
// PFDEBUG PFSELFTEST

/** strcasecmp compares C strings: an argument ends at its first NUL byte. */
function cstr(s: string): string {
  const nul = s.indexOf('\0');
  return nul === -1 ? s : s.slice(0, nul);
}

function pfdebugCommand(c: Client, argv: string[]): void {
  const cmd = cstr(argv[1]!);
  const key = argv[2]!;
  const db = c.db;
  const o = db.lookupWrite(key);
  if (o === undefined) {
    c.w.error('ERR The specified key does not exist');
    return;
  }
  const v = hllValueOrReply(c, o);
  if (v === null) return;
  markRaw(c, key, v);
  const hll = Hll.fromString(v);
  const sub = cmd.toLowerCase();
  if (sub === 'getreg' || sub === 'todense') {
    let converted = false;
    if (hll.encoding === HLL_SPARSE) {
      if (!hll.toDense()) {
        c.w.error(INVALID_HLL_ERR);
        return;
      }
      const value = hll.toString();
      db.set(key, value, true);
      markRaw(c, key, value);
      // "Force propagation on encoding change": a dirty change without signalling the key.
      c.server.keyspace.dirty++;
      converted = true;
    }
    if (sub === 'todense') {
      c.w.int(converted ? 1 : 0);
      return;
    }
    c.w.array(HLL_REGISTERS);
    for (let j = 0; j < HLL_REGISTERS; j++) c.w.int(hll.register(j));
  } else if (sub === 'decode') {
    if (hll.encoding !== HLL_SPARSE) {
      c.w.error('ERR HLL encoding is not sparse');
      return;
    }
    c.w.bulk(hll.decode());
  } else if (sub === 'encoding') {
    c.w.simple(hll.encoding === HLL_DENSE ? 'dense' : 'sparse');
  } else {
    c.w.error(`ERR Unknown PFDEBUG subcommand '${cmd}'`);
  }
}

/** How long one slice of PFSELFTEST may hold the event loop. */
const SELFTEST_SLICE_MS = 20;

/**
 * PFSELFTEST takes Redis about half a second and Mirra a few seconds, so it runs in slices
 * between other clients' commands while its caller waits blocked (like WAIT). Where a client
 * cannot block (inside MULTI, the master link) it runs at once, as in Redis.
 */
function pfselftestCommand(c: Client): void {
  const test = new HllSelfTest(sparseMaxBytes(c));
  const blocking = c.server.blocking;
  if (!blocking.canBlock(c)) {
    let r = test.run(Infinity);
    while (r === 'running') r = test.run(Infinity);
    replySelfTest(c, r);
    return;
  }
  blocking.blockKeyless(c, 0, () => {
    // CLIENT UNBLOCK ... TIMEOUT: the test is abandoned.
    c.w.error('UNBLOCKED client unblocked via CLIENT UNBLOCK');
  });
  // Released early (CLIENT UNBLOCK, disconnection): the client no longer waits on this entry.
  const entry = c.blockState;
  const slice = (): void => {
    if (c.blockState !== entry || c.flags.closed) return;
    const r = test.run(SELFTEST_SLICE_MS);
    if (r === 'running') {
      setImmediate(slice);
      return;
    }
    replySelfTest(c, r);
    blocking.unblock(c);
  };
  setImmediate(slice);
}

function replySelfTest(c: Client, failure: string | null): void {
  if (failure === null) c.w.ok();
  else c.w.error(failure);
}

// ---------------------------------------------------------------------------------------------

export const hyperloglogCommands: CommandDef[] = [
  { name: 'pfadd', handler: pfaddCommand },
  { name: 'pfcount', handler: pfcountCommand },
  { name: 'pfmerge', handler: pfmergeCommand },
  { name: 'pfdebug', handler: pfdebugCommand },
  { name: 'pfselftest', handler: pfselftestCommand },
];
