/**
 * SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] over a database's keys.
 *
 * Redis's guarantee: a full iteration returns every key that was present from its start to its
 * end (possibly some more than once, plus some keys added meanwhile). Redis gets it from the
 * reverse-binary walk over its hash buckets; Mirra's keyspace is a JS Map, which has no bucket
 * to resume from, but its iteration order is insertion order and its iterators are *live*:
 * an iterator still visits every entry that was in the map when it was created and is still
 * there when reached (deleted entries are skipped, new ones are appended and visited too, a
 * value overwritten in place keeps its position). So a scan is a server-side session holding
 * one live iterator, and the cursor names the session:
 *
 *     cursor = sessionId * 2^16 + step        (step = number of calls so far, mod 2^16)
 *
 *  - cursor 0 starts a new session; the final call returns 0 and ends it;
 *  - the cursor returned by the previous call continues it;
 *  - the cursor of the call before that is a client retry (lost reply): the same batch is
 *    returned again with the same next cursor, so retries cannot skip keys;
 *  - any other cursor (unknown, evicted, or its database was swapped away by SWAPDB) starts the
 *    walk again from the beginning, which keeps the guarantee at the cost of duplicates.
 * Sessions are kept in LRU order and at most MAX_SESSIONS of them live per server, so clients
 * that abandon scans cannot make the server hold iterators without bound.
 *
 * A walk ends after taking as many entries as the map held when it started. That is enough:
 * keys present from the start are all older than anything added later, so they come first in
 * insertion order, and there were at most that many of them. It also bounds the walk, so a
 * scan finishes even while other clients add keys faster than it reads them.
 *
 * COUNT is, as in Redis, the amount of work per call: that many keys are taken from the walk
 * and then filtered by MATCH, TYPE and expiry, so a call may return fewer (or zero) keys.
 */
import type { Client } from '../net/client.js';
import type { Server } from '../server/server.js';
import type { Value } from '../types/value.js';
import { typeOf } from '../types/value.js';
import { Err } from '../protocol/errors.js';
import { globMatch } from '../util/glob.js';
import { parseInteger } from '../util/numbers.js';
import { lookupKeyReadNoTouch } from './keys-lookup.js';

const MAX_SESSIONS = 4096;
const STEP_BITS = 65536;
const MAX_SESSION_ID = 2 ** 36;

interface ScanSession {
  id: number;
  /** The map being walked; a different map under the same DB (SWAPDB) invalidates the session. */
  dict: Map<string, Value>;
  it: Iterator<string>;
  /** An entry already taken from the iterator to learn whether the walk had ended. */
  pending: string | undefined;
  step: number;
  /** Keys taken by the last call (before filtering), for a retried cursor. */
  lastBatch: string[];
  /** Entries still to take: the map's size when the scan started (see below). */
  remaining: number;
}

interface Registry {
  sessions: Map<number, ScanSession>;
  nextId: number;
}

const registries = new WeakMap<Server, Registry>();

function registryOf(server: Server): Registry {
  let r = registries.get(server);
  if (r === undefined) {
    r = { sessions: new Map(), nextId: 1 };
    registries.set(server, r);
  }
  return r;
}

/**
 * parseScanCursorOrReply: strtoul semantics (optional sign, decimal digits, the empty string is
 * 0, negative values wrap). Returns the cursor as a bigint, or null after "ERR invalid cursor".
 */
export function parseScanCursor(c: Client, s: string): bigint | null {
  if (!/^([+-]?\d+)?$/.test(s)) {
    c.w.error('ERR invalid cursor');
    return null;
  }
  if (s === '') return 0n;
  const neg = s.charCodeAt(0) === 45;
  let v = BigInt(s.charCodeAt(0) === 43 || neg ? s.slice(1) : s);
  if (v > 0xffffffffffffffffn) {
    c.w.error('ERR invalid cursor');
    return null;
  }
  if (neg && v !== 0n) v = (1n << 64n) - v;
  return v;
}

export interface ScanOptions {
  count: number;
  /** undefined when absent or "*" (no filtering). */
  pattern: string | undefined;
  /** Lowercase type name for SCAN ... TYPE, undefined when absent. */
  type: string | undefined;
}

/**
 * Parses `[MATCH p] [COUNT n] [TYPE t]` from argv[start...]. TYPE is accepted only when
 * `allowType` (SCAN; not HSCAN/SSCAN/ZSCAN). Returns null after replying an error.
 */
export function parseScanOptions(c: Client, argv: string[], start: number, allowType: boolean): ScanOptions | null {
  const opts: ScanOptions = { count: 10, pattern: undefined, type: undefined };
  let i = start;
  while (i < argv.length) {
    const left = argv.length - i;
    const opt = argv[i]!.toLowerCase();
    if (opt === 'count' && left >= 2) {
      const n = parseInteger(argv[i + 1]!);
      if (n === null) {
        c.w.error(Err.notInteger);
        return null;
      }
      if (n < 1) {
        c.w.error(Err.syntax);
        return null;
      }
      opts.count = typeof n === 'bigint' ? Number.MAX_SAFE_INTEGER : n;
      i += 2;
    } else if (opt === 'match' && left >= 2) {
      const p = argv[i + 1]!;
      opts.pattern = p === '*' ? undefined : p;
      i += 2;
    } else if (opt === 'type' && allowType && left >= 2) {
      opts.type = argv[i + 1]!.toLowerCase();
      i += 2;
    } else {
      c.w.error(Err.syntax);
      return null;
    }
  }
  return opts;
}

function newSession(reg: Registry, dict: Map<string, Value>): ScanSession {
  let id = reg.nextId;
  while (reg.sessions.has(id)) id = id + 1 >= MAX_SESSION_ID ? 1 : id + 1;
  reg.nextId = id + 1 >= MAX_SESSION_ID ? 1 : id + 1;
  const s: ScanSession = { id, dict, it: dict.keys(), pending: undefined, step: 0, lastBatch: [], remaining: dict.size };
  reg.sessions.set(id, s);
  if (reg.sessions.size > MAX_SESSIONS) {
    const oldest = reg.sessions.keys().next().value as number;
    reg.sessions.delete(oldest);
  }
  return s;
}

function cursorOf(s: ScanSession): bigint {
  return BigInt(s.id) * BigInt(STEP_BITS) + BigInt(s.step % STEP_BITS);
}

export function scanCommand(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(c, argv[1]!);
  if (cursor === null) return;
  const opts = parseScanOptions(c, argv, 2, true);
  if (opts === null) return;
  const reg = registryOf(c.server);
  const dict = c.db.dict;
  let session: ScanSession | undefined;
  let batch: string[] | undefined;
  if (cursor !== 0n) {
    const id = Number(cursor / BigInt(STEP_BITS));
    const step = Number(cursor % BigInt(STEP_BITS));
    const s = reg.sessions.get(id);
    if (s !== undefined && s.dict === dict) {
      if (step === s.step % STEP_BITS) session = s;
      else if (step === (s.step + STEP_BITS - 1) % STEP_BITS) {
        // The client did not get our last reply and asks again: same keys, same next cursor.
        session = s;
        batch = s.lastBatch;
      }
    }
  }
  if (session === undefined) session = newSession(reg, dict);
  else {
    // Keep LRU order: most recently used sessions are evicted last.
    reg.sessions.delete(session.id);
    reg.sessions.set(session.id, session);
  }
  // A retried session is never finished: finished sessions are deleted.
  let done = false;
  if (batch === undefined) {
    batch = [];
    if (session.pending !== undefined) {
      batch.push(session.pending);
      session.pending = undefined;
    }
    const it = session.it;
    while (batch.length < opts.count && session.remaining > 0) {
      const r = it.next();
      if (r.done === true) break;
      batch.push(r.value);
      session.remaining--;
    }
    if (session.remaining > 0) {
      const r = it.next();
      if (r.done === true) done = true;
      else {
        session.pending = r.value;
        session.remaining--;
      }
    } else done = true;
    session.lastBatch = batch;
    session.step++;
    if (done) reg.sessions.delete(session.id);
  }
  const keys = filterKeys(c, batch, opts);
  c.w.array(2);
  c.w.bulk(done ? '0' : cursorOf(session).toString());
  c.w.bulkArray(keys);
}

/** MATCH, TYPE and expiry filters, in Redis's order (scanGenericCommand step 3). */
function filterKeys(c: Client, batch: string[], opts: ScanOptions): string[] {
  const db = c.db;
  const out: string[] = [];
  for (const key of batch) {
    if (!db.dict.has(key)) continue; // removed since a retried batch was taken
    if (opts.pattern !== undefined && !globMatch(opts.pattern, key)) continue;
    if (opts.type !== undefined) {
      const v = lookupKeyReadNoTouch(c, key);
      const t = v === undefined ? 'none' : typeOf(v);
      if (t !== opts.type) continue;
    }
    if (db.expires.size !== 0 && db.expireIfNeeded(key)) continue;
    out.push(key);
  }
  return out;
}
