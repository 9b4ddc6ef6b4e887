/**
 * SORT and SORT_RO (Redis 7.0 sort.c): sort a list, set or sorted set numerically or
 * lexicographically (ALPHA), optionally by external keys (BY pattern, `->field` for hashes),
 * returning elements or external values (GET pattern, `#` for the element), with LIMIT, DESC and
 * STORE (into a list; then SORT is a write that propagates as sent).
 *
 * Deviation: Redis compares ALPHA sorts without STORE with strcoll() in the server's locale;
 * Mirra always compares bytes, which is what Redis does under the C locale.
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';
import type { Value } from '../types/value.js';
import { ListValue } from '../types/list.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';
import { lookupKeyRead } from './keys-lookup.js';
import { strtodWhole } from './zset-common.js';

interface SortItem {
  obj: string;
  score: number;
  /** ALPHA BY value; null when the BY key is missing. */
  cmp: string | null;
}

/** The part of a C string before its first NUL (strchr/strstr stop there). */
function cString(s: string): string {
  const z = s.indexOf('\0');
  return z < 0 ? s : s.slice(0, z);
}

/**
 * lookupKeyByPattern: `#` is the element itself; otherwise the first `*` is replaced by the
 * element and the key read as a string, or — with `->field` after the `*` — as a hash field.
 */
function lookupByPattern(c: Client, pattern: string, subst: string): string | null {
  if (pattern === '#') return subst;
  const cpat = cString(pattern);
  const star = cpat.indexOf('*');
  if (star < 0) return null;
  const arrow = cpat.indexOf('->', star + 1);
  let field: string | null = null;
  let keyEnd = pattern.length;
  if (arrow >= 0 && arrow + 2 < pattern.length) {
    field = pattern.slice(arrow + 2);
    keyEnd = arrow;
  }
  const key = pattern.slice(0, star) + subst + pattern.slice(star + 1, keyEnd);
  const v: Value | undefined = lookupKeyRead(c, key);
  if (v === undefined) return null;
  if (field !== null) {
    if (typeof v === 'string' || v.type !== 'hash') return null;
    return v.get(field) ?? null;
  }
  return typeof v === 'string' ? v : null;
}

/** strtod with Redis's SORT checks: whole string, no NaN, no ERANGE (overflow or underflow). */
function sortScore(s: string): number | null {
  const v = strtodWhole(s);
  if (v === null || Number.isNaN(v)) return null;
  if (!Number.isFinite(v) && !/^\s*[+-]?inf/i.test(s)) return null;
  if (v !== 0 && Math.abs(v) < 2.2250738585072014e-308) return null;
  if (v === 0 && /[1-9]/.test(s.replace(/[eE].*$/, ''))) return null;
  return v;
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortGeneric(c: Client, argv: string[], readonly: boolean): void {
  let desc = false;
  let alpha = false;
  let limitStart = 0;
  let limitCount = -1;
  let dontsort = false;
  let sortby: string | null = null;
  let storekey: string | null = null;
  const gets: string[] = [];
  for (let j = 2; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const opt = argv[j]!.toLowerCase();
    if (opt === 'asc') desc = false;
    else if (opt === 'desc') desc = true;
    else if (opt === 'alpha') alpha = true;
    else if (opt === 'limit' && left >= 2) {
      const s = parseInt64(argv[j + 1]!);
      const n = s === null ? null : parseInt64(argv[j + 2]!);
      if (s === null || n === null) {
        c.w.error(Err.notInteger);
        return;
      }
      limitStart = s;
      limitCount = n;
      j += 2;
    } else if (!readonly && opt === 'store' && left >= 1) {
      storekey = argv[++j]!;
    } else if (opt === 'by' && left >= 1) {
      sortby = argv[++j]!;
      // A BY pattern without '*' names no per-element key: nothing to sort by.
      if (!cString(sortby).includes('*')) dontsort = true;
    } else if (opt === 'get' && left >= 1) {
      gets.push(argv[++j]!);
    } else {
      c.w.error(Err.syntax);
      return;
    }
  }
  const sortval = lookupKeyRead(c, argv[1]!);
  if (sortval !== undefined && (typeof sortval === 'string' || (sortval.type !== 'set' && sortval.type !== 'list' && sortval.type !== 'zset'))) {
    c.w.error(Err.wrongType);
    return;
  }
  // A set has no order of its own: when the result is stored (or replicated), sort it.
  if (dontsort && sortval !== undefined && sortval.type === 'set' && storekey !== null) {
    dontsort = false;
    alpha = true;
    sortby = null;
  }
  // Redis converts a listpack zset to a skiplist for SORT, and the conversion sticks.
  if (sortval !== undefined && sortval.type === 'zset') sortval.convertToSkiplist();

  let vectorlen = sortval === undefined ? 0 : sortval.type === 'list' ? sortval.length : sortval.size;
  let start = limitStart < 0 ? 0 : limitStart;
  let end = limitCount < 0 ? vectorlen - 1 : start + limitCount - 1;
  if (start >= vectorlen) {
    start = vectorlen - 1;
    end = vectorlen - 2;
  }
  if (end >= vectorlen) end = vectorlen - 1;

  let vector: SortItem[] = [];
  const item = (obj: string): SortItem => ({ obj, score: 0, cmp: null });
  if (sortval !== undefined && (sortval.type === 'list' || sortval.type === 'zset') && dontsort) {
    // Native order (reversed for DESC), loading only the LIMIT window.
    if (start !== 0 || end !== vectorlen - 1) vectorlen = end - start + 1;
    if (end >= start) {
      if (sortval.type === 'list') {
        const len = sortval.length;
        for (let k = 0; k < vectorlen; k++) vector.push(item(sortval.get(desc ? len - start - 1 - k : start + k)));
      } else {
        const size = sortval.size;
        const lo = desc ? size - start - vectorlen : start;
        sortval.forRange(lo, lo + vectorlen, desc, (m) => void vector.push(item(m)));
      }
      end -= start;
      start = 0;
    }
  } else if (sortval !== undefined) {
    if (sortval.type === 'list') for (const v of sortval.items()) vector.push(item(v));
    else if (sortval.type === 'set') for (const m of sortval.members()) vector.push(item(m));
    else sortval.forEach((m) => void vector.push(item(m)));
  }

  let conversionError = false;
  if (!dontsort) {
    for (const it of vector) {
      let byval: string | null;
      if (sortby !== null) {
        byval = lookupByPattern(c, sortby, it.obj);
        if (byval === null) continue;
      } else byval = it.obj;
      if (alpha) {
        if (sortby !== null) it.cmp = byval;
      } else {
        const s = sortScore(byval);
        if (s === null) conversionError = true;
        else it.score = s;
      }
    }
    const bypattern = sortby !== null;
    const sign = desc ? -1 : 1;
    vector.sort((a, b) => {
      let cmp: number;
      if (!alpha) {
        cmp = a.score > b.score ? 1 : a.score < b.score ? -1 : byteCompare(a.obj, b.obj);
      } else if (bypattern) {
        if (a.cmp === null || b.cmp === null) cmp = a.cmp === b.cmp ? 0 : a.cmp === null ? -1 : 1;
        else cmp = byteCompare(a.cmp, b.cmp);
      } else {
        cmp = byteCompare(a.obj, b.obj);
      }
      return sign * cmp;
    });
  }

  const outputlen = gets.length > 0 ? gets.length * (end - start + 1) : end - start + 1;
  if (conversionError) {
    c.w.error("ERR One or more scores can't be converted into double");
    return;
  }
  if (storekey === null) {
    c.w.array(outputlen);
    for (let j = start; j <= end; j++) {
      const obj = vector[j]!.obj;
      if (gets.length === 0) c.w.bulk(obj);
      for (const g of gets) {
        const v = lookupByPattern(c, g, obj);
        if (v === null) c.w.nullBulk();
        else c.w.bulk(v);
      }
    }
    return;
  }
  const out: string[] = [];
  for (let j = start; j <= end; j++) {
    const obj = vector[j]!.obj;
    if (gets.length === 0) out.push(obj);
    for (const g of gets) out.push(lookupByPattern(c, g, obj) ?? '');
  }
  vector = [];
  const ks = c.server.keyspace;
  if (outputlen > 0) {
    c.db.set(storekey, ListValue.from(out, c.server.config));
    ks.changed(c.db, storekey, 'l', 'sortstore', outputlen);
    ks.signalKeyReady(c.db, storekey);
  } else if (c.db.lookupWrite(storekey) !== undefined && c.db.delete(storekey)) {
    ks.changed(c.db, storekey, 'g', 'del');
  }
  c.w.int(outputlen);
}

/** sortGetKeys: the sorted key plus the key of the last STORE option. */
function sortKeys(argv: string[]): number[] {
  const keys = [1];
  let store = -1;
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!.toLowerCase();
    if (a === 'limit') i += 2;
    else if (a === 'get' || a === 'by') i += 1;
    else if (a === 'store' && i + 1 < argv.length) store = i + 1;
  }
  if (store >= 0) keys.push(store);
  return keys;
}

export function sortCommand(c: Client, argv: string[]): void {
  sortGeneric(c, argv, false);
}

export function sortRoCommand(c: Client, argv: string[]): void {
  sortGeneric(c, argv, true);
}

export const sortCommands: CommandDef[] = [
  { name: 'sort', handler: sortCommand, getKeys: sortKeys },
  { name: 'sort_ro', handler: sortRoCommand, getKeys: () => [1] },
];
