/**
 * Value deserialisation for every type Redis 7.0 loads (rdb.md §5), shared by the RDB loader
 * and RESTORE. Values are rebuilt through the type classes' `from()` constructors, which pick
 * the encoding Redis would end with for the same data and config.
 *
 * Corruption checks beyond the blob decoders: duplicate members/fields (a collection whose
 * built size is smaller than the number of items read), odd listpack pair counts, NaN scores,
 * unknown types and quicklist containers. Empty collections yield null (Redis skips them when
 * loading a file and refuses them in RESTORE).
 */
import type { Config } from '../../config/config.js';
import type { Value } from '../../types/value.js';
import { ListValue } from '../../types/list.js';
import { SetValue } from '../../types/set.js';
import { HashValue } from '../../types/hash.js';
import { ZSetValue } from '../../types/zset.js';
import { parseDouble } from '../../util/numbers.js';
import { RdbError } from './errors.js';
import { NEED_MORE, type Cursor } from './cursor.js';
import { intsetDecode, lpDecode, lpToPacked, zipmapDecode, zlDecode } from './listpack.js';
import { readStream } from './stream-codec.js';
import * as F from './format.js';

function pairsOf(flat: string[], what: string): [string, string][] {
  if (flat.length % 2 !== 0) throw new RdbError(`${what} has an odd number of elements`);
  const out: [string, string][] = new Array<[string, string]>(flat.length / 2);
  for (let i = 0; i < flat.length; i += 2) out[i / 2] = [flat[i]!, flat[i + 1]!];
  return out;
}

function scoreOf(text: string): number {
  const v = parseDouble(text);
  if (v === null) throw new RdbError(`Invalid zset score '${text.slice(0, 40)}'`);
  return v;
}

function zsetFromFlat(flat: string[], cfg: Config): ZSetValue | null {
  if (flat.length % 2 !== 0) throw new RdbError('Zset listpack has an odd number of elements');
  const entries: [string, number][] = [];
  for (let i = 0; i < flat.length; i += 2) entries.push([flat[i]!, scoreOf(flat[i + 1]!)]);
  return makeZset(entries, cfg);
}

function makeZset(entries: [string, number][], cfg: Config): ZSetValue | null {
  if (entries.length === 0) return null;
  const z = ZSetValue.from(entries, cfg);
  if (z.size !== entries.length) throw new RdbError('Duplicate zset fields detected');
  return z;
}

function makeHash(pairs: [string, string][], cfg: Config): HashValue | null {
  if (pairs.length === 0) return null;
  const h = HashValue.from(pairs, cfg);
  if (h.size !== pairs.length) throw new RdbError('Duplicate hash fields detected');
  return h;
}

function makeSet(members: string[], cfg: Config): SetValue | null {
  if (members.length === 0) return null;
  const s = SetValue.from(members, cfg);
  if (s.size !== members.length) throw new RdbError('Duplicate set members detected');
  return s;
}

function makeList(items: string[], cfg: Config): ListValue | null {
  if (items.length === 0) return null;
  return ListValue.from(items, cfg);
}

/** A legacy ZSET (type 3) score: one length byte, 253/254/255 for nan/+inf/-inf. */
function legacyScore(cur: Cursor): number {
  const l = cur.u8();
  if (l === 253) throw new RdbError('Zset with NAN score detected');
  if (l === 254) return Infinity;
  if (l === 255) return -Infinity;
  return scoreOf(cur.rawString(l));
}

/**
 * Reads the value of type `t`. Returns null for an empty collection. Throws RdbError on any
 * corruption (NEED_MORE propagates for incomplete input).
 */
export function readValue(cur: Cursor, t: number, cfg: Config): Value | null {
  switch (t) {
    case F.RDB_TYPE_STRING:
      return cur.str();
    case F.RDB_TYPE_LIST: {
      const n = cur.len();
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(cur.str());
      return makeList(items, cfg);
    }
    case F.RDB_TYPE_SET: {
      const n = cur.len();
      const members: string[] = [];
      for (let i = 0; i < n; i++) members.push(cur.str());
      return makeSet(members, cfg);
    }
    case F.RDB_TYPE_ZSET:
    case F.RDB_TYPE_ZSET_2: {
      const n = cur.len();
      const entries: [string, number][] = [];
      for (let i = 0; i < n; i++) {
        const m = cur.str();
        let score: number;
        if (t === F.RDB_TYPE_ZSET_2) {
          score = cur.double();
          if (Number.isNaN(score)) throw new RdbError('Zset with NAN score detected');
        } else {
          score = legacyScore(cur);
        }
        entries.push([m, score]);
      }
      return makeZset(entries, cfg);
    }
    case F.RDB_TYPE_HASH: {
      const n = cur.len();
      const pairs: [string, string][] = [];
      for (let i = 0; i < n; i++) pairs.push([cur.str(), cur.str()]);
      return makeHash(pairs, cfg);
    }
    case F.RDB_TYPE_HASH_ZIPMAP:
      return makeHash(zipmapDecode(cur.blob()), cfg);
    case F.RDB_TYPE_LIST_ZIPLIST:
      return makeList(zlDecode(cur.blob()), cfg);
    case F.RDB_TYPE_SET_INTSET:
      return makeSet(intsetDecode(cur.blob()), cfg);
    case F.RDB_TYPE_SET_LISTPACK:
      return makeSet(lpDecode(cur.blob()), cfg);
    case F.RDB_TYPE_ZSET_ZIPLIST:
      return zsetFromFlat(zlDecode(cur.blob()), cfg);
    case F.RDB_TYPE_ZSET_LISTPACK:
      return zsetFromFlat(lpDecode(cur.blob()), cfg);
    case F.RDB_TYPE_HASH_ZIPLIST:
      return makeHash(pairsOf(zlDecode(cur.blob()), 'Hash ziplist'), cfg);
    case F.RDB_TYPE_HASH_LISTPACK: {
      const blob = cur.blob();
      // The common small hash goes straight from listpack bytes to its packed string.
      const lp = lpToPacked(blob);
      if (lp.count % 2 === 0) {
        const h = HashValue.fromPacked(lp.p, lp.count / 2, lp.maxLen, cfg);
        if (h !== null) return h;
      }
      return makeHash(pairsOf(lpDecode(blob), 'Hash listpack'), cfg);
    }
    case F.RDB_TYPE_LIST_QUICKLIST:
    case F.RDB_TYPE_LIST_QUICKLIST_2: {
      const nodes = cur.len();
      const items: string[] = [];
      for (let i = 0; i < nodes; i++) {
        let container = F.QUICKLIST_NODE_PACKED;
        if (t === F.RDB_TYPE_LIST_QUICKLIST_2) {
          container = cur.len();
          if (container !== F.QUICKLIST_NODE_PACKED && container !== F.QUICKLIST_NODE_PLAIN) {
            throw new RdbError(`Quicklist integrity check failed: unknown container ${container}`);
          }
        }
        if (container === F.QUICKLIST_NODE_PLAIN) {
          items.push(cur.str());
          continue;
        }
        const blob = cur.blob();
        const els = t === F.RDB_TYPE_LIST_QUICKLIST ? zlDecode(blob) : lpDecode(blob);
        // Redis drops empty nodes silently (they can exist in files written by old versions).
        for (const e of els) items.push(e);
      }
      return makeList(items, cfg);
    }
    case F.RDB_TYPE_STREAM_LISTPACKS:
    case F.RDB_TYPE_STREAM_LISTPACKS_2:
    case F.RDB_TYPE_STREAM_LISTPACKS_3:
      return readStream(cur, t);
    case F.RDB_TYPE_MODULE_PRE_GA:
    case F.RDB_TYPE_MODULE_2:
      throw new RdbError('The RDB file contains module data type values, which Mirra cannot load (no modules)');
    default:
      throw new RdbError(`Unknown RDB encoding type ${t}`);
  }
}

/**
 * readValue for untrusted input: an exception raised while building a value from corrupt data
 * (by a type class, say) is reported as RdbError like every other corruption.
 */
export function readValueGuarded(cur: Cursor, t: number, cfg: Config): Value | null {
  try {
    return readValue(cur, t, cfg);
  } catch (e) {
    if (e === NEED_MORE || e instanceof RdbError) throw e;
    throw new RdbError(`Corrupt value of type ${t}: ${(e as Error).message}`);
  }
}
