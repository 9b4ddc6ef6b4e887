/**
 * Number parsing and formatting with Redis's exact rules.
 *
 * Arguments arrive as latin1 "byte strings" (see bytes.ts). Redis accepts an integer only when the
 * text is canonical (`string2ll`): optional '-', no '+', no leading zeros, no spaces, fits int64.
 * Doubles follow `strtod` plus Redis's extra checks (no NaN, no trailing garbage, no spaces).
 */

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** Largest magnitude that JS numbers hold exactly; beyond it we fall back to BigInt. */
const SAFE_DIGITS = 15;

/**
 * Parse a canonical signed 64-bit integer. Returns null when the text is not one.
 * Values outside the safe-integer range come back as BigInt-checked numbers only if exact;
 * callers that need full int64 precision use parseInt64Big.
 */
export function parseInt64(s: string): number | null {
  const len = s.length;
  if (len === 0 || len > 20) return null;
  let i = 0;
  let neg = false;
  if (s.charCodeAt(0) === 45 /* - */) {
    if (len === 1) return null;
    neg = true;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48 /* 0 */) return len === 1 ? 0 : null; // "0" ok, "-0" and "01" are not canonical
  if (len - i > SAFE_DIGITS) {
    const big = parseInt64Big(s);
    if (big === null) return null;
    const n = Number(big);
    return Number.isSafeInteger(n) ? n : null;
  }
  let v = 0;
  for (; i < len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return null;
    v = v * 10 + c;
  }
  return neg ? -v : v;
}

/** Full-precision int64 parse (canonical form only). */
export function parseInt64Big(s: string): bigint | null {
  if (!/^-?(0|[1-9][0-9]{0,18})$/.test(s)) return null;
  if (s === '-0') return null;
  const v = BigInt(s);
  if (v > INT64_MAX || v < INT64_MIN) return null;
  return v;
}

/**
 * Like parseInt64 but for values that must keep full int64 precision while staying cheap for the
 * common small case (INCRBY, counters). Returns a bigint only when the value is outside 2^53.
 */
export function parseInteger(s: string): number | bigint | null {
  const n = parseInt64(s);
  if (n !== null) return n;
  return parseInt64Big(s);
}

/**
 * Parse a double as Redis's getDoubleFromObject does: strtod over the whole string, no leading
 * space, no NaN. Accepts "inf", "+inf", "-inf", "infinity" (any case) like strtod.
 */
export function parseDouble(s: string): number | null {
  const len = s.length;
  if (len === 0 || len > 5000) return null;
  const c0 = s.charCodeAt(0);
  if (c0 === 32 || c0 === 9 || c0 === 10 || c0 === 13 || c0 === 11 || c0 === 12) return null;
  const lower = s.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    // strtod also accepts hex floats; Redis inherits that. Support the common 0x form.
    if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(s)) return Number.parseInt(s, 16);
    return null;
  }
  const v = Number(s);
  if (Number.isNaN(v)) return null;
  return v;
}

/**
 * Parse a long double the way INCRBYFLOAT/HINCRBYFLOAT do (`string2ld`): like parseDouble but
 * infinities are rejected by the callers, and leading/trailing spaces are errors.
 */
export function parseLongDouble(s: string): number | null {
  const v = parseDouble(s);
  return v;
}

/** Emulates C's printf("%.17g", v): used by DEBUG DIGEST, RDB legacy scores, AOF rewrite. */
export function formatG17(v: number): string {
  return formatG(v, 17);
}

/** C `%.<prec>g` formatting. */
export function formatG(v: number, prec: number): string {
  if (Number.isNaN(v)) return v < 0 ? '-nan' : 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  // toExponential gives the correctly rounded digits; derive the real exponent from it.
  const expStr = v.toExponential(prec - 1);
  const ePos = expStr.indexOf('e');
  const x = Number(expStr.slice(ePos + 1));
  void exp;
  if (x < -4 || x >= prec) {
    let mant = expStr.slice(0, ePos);
    if (mant.includes('.')) mant = mant.replace(/0+$/, '').replace(/\.$/, '');
    const sign = x < 0 ? '-' : '+';
    const ax = Math.abs(x);
    return `${mant}e${sign}${ax < 10 ? '0' + ax : ax}`;
  }
  let fixed = v.toFixed(Math.max(0, prec - 1 - x));
  if (fixed.includes('.')) fixed = fixed.replace(/0+$/, '').replace(/\.$/, '');
  return fixed;
}

/**
 * Format a double for a reply the way Redis 7.0 does (addReplyDouble / ZSCORE, ZINCRBY ...):
 * "%.17g" in 7.0. Integers that fit print without exponent; inf prints as "inf".
 */
export function formatDoubleReply(v: number): string {
  return formatG17(v);
}

/**
 * Format like INCRBYFLOAT/HINCRBYFLOAT (`ld2string` with LD_STR_HUMAN): "%.17Lf" then trailing
 * zeros trimmed. Redis uses long double; we use double, which agrees for the values clients use
 * except in the last digits of very precise inputs.
 */
export function formatHumanDouble(v: number): string {
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e21) {
    return Object.is(v, -0) ? '0' : BigInt(v).toString();
  }
  // Use the shortest round-trip representation when it is not in exponent form; otherwise expand.
  let s = String(v);
  if (s.includes('e')) {
    s = expandExponent(v);
  }
  return s;
}

function expandExponent(v: number): string {
  // Print with enough fixed digits, then trim trailing zeros (%.17Lf semantics trimmed).
  let s = v.toFixed(17);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  if (s === '-0') s = '0';
  return s;
}

/** Decimal text of an integer, as Redis replies with it. */
export function intToString(n: number | bigint): string {
  return typeof n === 'bigint' ? n.toString() : String(n);
}

export { INT64_MAX, INT64_MIN };
