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

/**
 * C `%.<prec>g` formatting (glibc semantics: round-half-even on the exact binary value).
 *
 * JS's toExponential rounds ties away from zero, so it is used only when the digit after the
 * last kept one cannot be an exact tie; otherwise the exact decimal expansion of the double is
 * computed with BigInt and rounded half-even, as printf does (e.g. 1234567890123456.25 prints
 * 1234567890123456.2 with %.17g, not ...3).
 */
export function formatG(v: number, prec: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const p = prec <= 0 ? 1 : prec;
  // An integer of at most 16 digits prints as itself at %.16g and beyond (the common case of
  // sorted-set scores, which the RDB writer formats by the million).
  if (p >= 16 && Number.isSafeInteger(v)) return String(v);
  const neg = v < 0;
  const [digits, exp] = roundSignificant(neg ? -v : v, p);
  let out: string;
  if (exp < -4 || exp >= p) {
    const frac = trimZeros(digits.slice(1));
    const ax = exp < 0 ? -exp : exp;
    out = digits[0]! + (frac === '' ? '' : '.' + frac) + (exp < 0 ? 'e-' : 'e+') + (ax < 10 ? '0' + ax : String(ax));
  } else if (exp >= 0) {
    const frac = trimZeros(digits.slice(exp + 1));
    out = digits.slice(0, exp + 1) + (frac === '' ? '' : '.' + frac);
  } else {
    out = '0.' + '0'.repeat(-exp - 1) + trimZeros(digits);
  }
  return neg ? '-' + out : out;
}

function trimZeros(s: string): string {
  let e = s.length;
  while (e > 0 && s.charCodeAt(e - 1) === 48) e--;
  return s.slice(0, e);
}

/**
 * The first `p` significant decimal digits of x > 0 (finite), correctly rounded half-even, and
 * the decimal exponent of the first digit.
 */
function roundSignificant(x: number, p: number): [string, number] {
  if (p <= 100) {
    // Look one digit further: only a 5 there can hide an exact tie.
    const longer = x.toExponential(Math.min(p, 100));
    const ePos = longer.indexOf('e');
    if (p === 100 || longer.charCodeAt(ePos - 1) !== 53 /* 5 */) {
      const s = x.toExponential(p - 1);
      const e = s.indexOf('e');
      const digits = p === 1 ? s.slice(0, e) : s[0]! + s.slice(2, e);
      return [digits, Number(s.slice(e + 1))];
    }
  }
  return roundExact(x, p);
}

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A finite double x >= 0 as exactly mant × 2^e2 (integer mant): the base of the exact decimal
 * formatting that printf's round-half-even on the binary value needs.
 */
export function decomposeDouble(x: number): { mant: bigint; e2: number } {
  F64[0] = x;
  const hi = U32[LITTLE_ENDIAN ? 1 : 0]!;
  const lo = U32[LITTLE_ENDIAN ? 0 : 1]!;
  const biased = (hi >>> 20) & 0x7ff;
  const mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return { mant, e2: -1074 };
  return { mant: mant | (1n << 52n), e2: biased - 1075 };
}

/** Exact decimal expansion of x > 0 rounded half-even to p digits. */
function roundExact(x: number, p: number): [string, number] {
  const { mant, e2 } = decomposeDouble(x);
  let all: string;
  let exp: number;
  if (e2 >= 0) {
    all = (mant << BigInt(e2)).toString();
    exp = all.length - 1;
  } else {
    all = (mant * 5n ** BigInt(-e2)).toString();
    exp = all.length - 1 + e2;
  }
  if (all.length <= p) return [all + '0'.repeat(p - all.length), exp];
  let head = all.slice(0, p);
  const first = all.charCodeAt(p);
  let up = first > 53;
  if (first === 53) {
    let nonzero = false;
    for (let i = p + 1; i < all.length; i++) {
      if (all.charCodeAt(i) !== 48) {
        nonzero = true;
        break;
      }
    }
    up = nonzero || (head.charCodeAt(p - 1) & 1) === 1;
  }
  if (up) {
    const inc = (BigInt(head) + 1n).toString();
    if (inc.length > p) {
      head = inc.slice(0, p);
      exp++;
    } else head = inc;
  }
  return [head, exp];
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
