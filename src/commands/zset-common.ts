/**
 * Shared pieces of the sorted-set commands: Redis's range parsers (zslParseRange,
 * zslParseLexRange), the range predicates, typed lookups and the reply shapes of
 * member/score lists in RESP2 and RESP3.
 */
import type { Client } from '../net/client.js';
import type { Value } from '../types/value.js';
import { ZSetValue } from '../types/zset.js';
import type { KeyPredicate } from '../types/zset.js';
import { Err } from '../protocol/errors.js';
import { lookupKeyRead } from './keys-lookup.js';
import { formatDoubleReply } from '../util/numbers.js';

export const ERR_MINMAX_FLOAT = 'ERR min or max is not a float';
export const ERR_MINMAX_LEX = 'ERR min or max not valid string range item';
export const ERR_NAN = 'ERR resulting score is not a number (NaN)';

// ---------------------------------------------------------------------------------------------
// strtod

const DEC_RE = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const HEX_RE = /^([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+))(?:[pP]([+-]?[0-9]+))?$/;
const SPECIAL_RE = /^([+-]?)(inf|infinity|nan(\([0-9a-zA-Z_]*\))?)$/i;

function isCSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * C strtod() applied to the whole string, as Redis's range parsers use it: leading white space
 * allowed, nothing may follow the number. An empty string converts (to 0) because strtod then
 * leaves its end pointer on the terminating NUL. Returns null when strtod would stop early.
 * May return NaN (callers reject it).
 */
export function strtodWhole(s: string): number | null {
  if (s.length === 0) return 0;
  let i = 0;
  while (i < s.length && isCSpace(s.charCodeAt(i))) i++;
  if (i === s.length) return null; // no conversion: end pointer stays at the first space
  const t = i === 0 ? s : s.slice(i);
  if (DEC_RE.test(t)) return Number(t);
  const sp = SPECIAL_RE.exec(t);
  if (sp !== null) {
    if (sp[2]!.toLowerCase().startsWith('nan')) return NaN;
    return sp[1] === '-' ? -Infinity : Infinity;
  }
  const hx = HEX_RE.exec(t);
  if (hx !== null) {
    const [intPart, fracPart = ''] = hx[2]!.split('.');
    let v = 0;
    for (const ch of intPart!) v = v * 16 + parseInt(ch, 16);
    let scale = 1 / 16;
    for (const ch of fracPart) {
      v += parseInt(ch, 16) * scale;
      scale /= 16;
    }
    if (hx[3] !== undefined) v *= Math.pow(2, Number(hx[3]));
    return hx[1] === '-' ? -v : v;
  }
  return null;
}

/**
 * getDoubleFromObject: strtod over the whole non-empty string, no leading space, no NaN, and
 * no overflow to ±HUGE_VAL or underflow to zero (strtod's ERANGE cases). Null when invalid.
 */
export function getDouble(s: string): number | null {
  if (s.length === 0 || isCSpace(s.charCodeAt(0))) return null;
  const v = strtodWhole(s);
  if (v === null || Number.isNaN(v)) return null;
  if (v === Infinity || v === -Infinity) {
    if (!SPECIAL_RE.test(s)) return null; // overflow, not a literal infinity
  } else if (v === 0 && /[1-9a-fA-F]/.test(s.replace(/[eEpP].*$/, '').replace(/^[+-]?0[xX]/, ''))) {
    return null; // underflow to zero
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Ranges

export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

function parseScoreItem(s: string): { v: number; ex: boolean } | null {
  const ex = s.charCodeAt(0) === 40; /* ( */
  const v = strtodWhole(ex ? s.slice(1) : s);
  if (v === null || Number.isNaN(v)) return null;
  return { v, ex };
}

/** zslParseRange: "1.5", "(1.5", "-inf", "+inf"... Returns null when either bound is invalid. */
export function parseScoreRange(min: string, max: string): ScoreRange | null {
  const a = parseScoreItem(min);
  if (a === null) return null;
  const b = parseScoreItem(max);
  if (b === null) return null;
  return { min: a.v, minex: a.ex, max: b.v, maxex: b.ex };
}

export function scoreGteMin(v: number, r: ScoreRange): boolean {
  return r.minex ? v > r.min : v >= r.min;
}

export function scoreLteMax(v: number, r: ScoreRange): boolean {
  return r.maxex ? v < r.max : v <= r.max;
}

/** zslIsInRange's emptiness test on the range alone. */
export function scoreRangeEmpty(r: ScoreRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minex || r.maxex));
}

/** Lex bound: a byte string, or the special -/+ extremes. */
export interface LexRange {
  min: string;
  max: string;
  minex: boolean;
  maxex: boolean;
  /** min is '-' (below everything) / max is '+' (above everything). */
  minInf: -1 | 0 | 1;
  maxInf: -1 | 0 | 1;
}

function parseLexItem(s: string): { v: string; ex: boolean; inf: -1 | 0 | 1 } | null {
  switch (s.charCodeAt(0)) {
    case 43 /* + */:
      return s.length === 1 ? { v: '', ex: true, inf: 1 } : null;
    case 45 /* - */:
      return s.length === 1 ? { v: '', ex: true, inf: -1 } : null;
    case 40 /* ( */:
      return { v: s.slice(1), ex: true, inf: 0 };
    case 91 /* [ */:
      return { v: s.slice(1), ex: false, inf: 0 };
    default:
      return null;
  }
}

/** zslParseLexRange: "[a", "(a", "-", "+". */
export function parseLexRange(min: string, max: string): LexRange | null {
  const a = parseLexItem(min);
  if (a === null) return null;
  const b = parseLexItem(max);
  if (b === null) return null;
  return { min: a.v, minex: a.ex, minInf: a.inf, max: b.v, maxex: b.ex, maxInf: b.inf };
}

/** sdscmplex with the shared min/max strings. */
function cmpLex(a: string, aInf: number, b: string, bInf: number): number {
  if (aInf !== 0 || bInf !== 0) return aInf === bInf ? 0 : aInf < bInf ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function lexGteMin(m: string, r: LexRange): boolean {
  const c = cmpLex(m, 0, r.min, r.minInf);
  return r.minex ? c > 0 : c >= 0;
}

export function lexLteMax(m: string, r: LexRange): boolean {
  const c = cmpLex(m, 0, r.max, r.maxInf);
  return r.maxex ? c < 0 : c <= 0;
}

export function lexRangeEmpty(r: LexRange): boolean {
  const c = cmpLex(r.min, r.minInf, r.max, r.maxInf);
  return c > 0 || (c === 0 && (r.minex || r.maxex));
}

/** Predicates for ZSetValue.countBefore (monotone in the zset order). */
export function pLexGteMin(r: LexRange): KeyPredicate {
  return (_s, m) => lexGteMin(m, r);
}
export function pLexGtMax(r: LexRange): KeyPredicate {
  return (_s, m) => !lexLteMax(m, r);
}

/**
 * [first rank, end rank) of the elements inside a score range. Uses the zset order, so the
 * result is exact for any zset.
 */
export function scoreRankSpan(z: ZSetValue, r: ScoreRange): [number, number] {
  if (scoreRangeEmpty(r)) return [0, 0];
  const a = z.scoreRank(r.min, r.minex);
  const b = z.scoreRank(r.max, !r.maxex);
  return [a, Math.max(a, b)];
}

/**
 * [first rank, end rank) of the elements inside a lex range. Lex ranges are meaningful only when
 * all scores are equal (as in Redis). A listpack zset is scanned from the head like Redis's
 * zzlFirstInLexRange; a big one is searched by member in the tree order.
 */
export function lexRankSpan(z: ZSetValue, r: LexRange): [number, number] {
  if (lexRangeEmpty(r)) return [0, 0];
  if (z.encoding === 'listpack') {
    let a = -1;
    let b = -1;
    let i = 0;
    z.forEach((m) => {
      if (a < 0) {
        if (lexGteMin(m, r)) {
          a = i;
          if (!lexLteMax(m, r)) return false;
        } else {
          i++;
          return true;
        }
      } else if (!lexLteMax(m, r)) {
        b = i;
        return false;
      }
      i++;
      return true;
    });
    if (a < 0) return [0, 0];
    if (b < 0) b = i;
    return [a, Math.max(a, b)];
  }
  const a = z.countBefore(pLexGteMin(r));
  const b = z.countBefore(pLexGtMax(r));
  return [a, Math.max(a, b)];
}

// ---------------------------------------------------------------------------------------------
// Lookups

/** lookupKeyRead + checkType(OBJ_ZSET): value, undefined when missing, null after WRONGTYPE. */
export function readZset(c: Client, key: string): ZSetValue | undefined | null {
  const v = lookupKeyRead(c, key);
  if (v === undefined) return undefined;
  if (typeof v === 'string' || v.type !== 'zset') {
    c.w.error(Err.wrongType);
    return null;
  }
  return v;
}

/** lookupKeyWrite + checkType(OBJ_ZSET). */
export function writeZset(c: Client, key: string): ZSetValue | undefined | null {
  const v = c.db.lookupWrite(key);
  if (v === undefined) return undefined;
  if (typeof v === 'string' || v.type !== 'zset') {
    c.w.error(Err.wrongType);
    return null;
  }
  return v;
}

export function isZsetOrSet(v: Value): boolean {
  return typeof v !== 'string' && (v.type === 'zset' || v.type === 'set');
}

/**
 * Stores a freshly built zset under `dst` (or deletes `dst` when the result is empty), with the
 * reply, events and dirty accounting of Redis's ZRANGESTORE / Z*STORE finalisation.
 */
export function storeZsetResult(c: Client, dst: string, z: ZSetValue, event: string): void {
  const ks = c.server.keyspace;
  if (z.size > 0) {
    c.db.set(dst, z);
    c.w.int(z.size);
    ks.changed(c.db, dst, 'z', event);
    ks.signalKeyReady(c.db, dst);
  } else {
    c.w.int(0);
    if (c.db.lookupWrite(dst) !== undefined && c.db.delete(dst)) ks.changed(c.db, dst, 'g', 'del');
  }
}

// ---------------------------------------------------------------------------------------------
// Replies

/**
 * Writes one element of a member list: RESP3 WITHSCORES elements are [member, score] pairs,
 * RESP2 ones are flat. Small elements are encoded as one string and written at once: every
 * write into the reply buffer crosses into native code, which dominated range replies.
 */
export function writeElement(c: Client, member: string, score: number, withscores: boolean): void {
  const w = c.w;
  if (member.length > 256) {
    if (withscores && w.proto === 3) w.array(2);
    w.bulk(member);
    if (withscores) w.double(score);
    return;
  }
  let s = '$' + member.length + '\r\n' + member + '\r\n';
  if (withscores) {
    const d = formatDoubleReply(score);
    s = w.proto === 3 ? '*2\r\n' + s + ',' + d + '\r\n' : s + '$' + d.length + '\r\n' + d + '\r\n';
  }
  w.rawString(s);
}

/** Array header for `n` elements written with writeElement. */
export function writeElementsHeader(c: Client, n: number, withscores: boolean): void {
  c.w.array(withscores && c.w.proto === 2 ? n * 2 : n);
}
