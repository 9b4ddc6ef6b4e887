/**
 * INCRBYFLOAT arithmetic with Redis's exact results.
 *
 * Redis parses both operands with `strtold` into an x87 80-bit `long double` (64-bit
 * significand, 15-bit exponent), adds them, and stores `printf("%.17Lf")` with trailing zeros
 * trimmed. A JS double gives visibly different text for everyday inputs (0.1 + 0.2 prints
 * "0.30000000000000004" in double but "0.3" through long double), so this module emulates the
 * long double exactly with BigInt: a value is `mant * 2^exp` with `mant` rounded to 64
 * significant bits (round half to even), the sum is computed exactly and rounded once, and the
 * decimal text is produced from the exact binary value. Only INCRBYFLOAT (and HINCRBYFLOAT)
 * use it; the hot paths of other commands never touch BigInt.
 */

/** A finite long double `sign * mant * 2^exp`, or an infinity. mant is 0 or has at most 64 bits. */
export interface LongDouble {
  neg: boolean;
  mant: bigint;
  exp: number;
  inf: boolean;
}

const MANT_BITS = 64;
/** Smallest exponent of the least significant significand bit (denormals end at 2^-16445). */
const MIN_EXP = -16445;
/** Values at or above 2^16384 overflow to infinity. */
const MAX_BITS_EXP = 16384;
/** `MAX_LONG_DOUBLE_CHARS` in Redis: longer inputs are refused before parsing. */
const MAX_CHARS = 5 * 1024;

const ZERO: LongDouble = { neg: false, mant: 0n, exp: 0, inf: false };

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/**
 * Rounds the exact value `n * 2^e` (n >= 0) to a long double, half to even. `sticky` says that
 * nonzero bits below n were already dropped (so an exact half is really above half).
 */
function roundBinary(neg: boolean, n: bigint, e: number, sticky = false): LongDouble {
  if (n === 0n) return { neg, mant: 0n, exp: 0, inf: false };
  const len = bitLength(n);
  // Drop bits beyond the 64-bit significand, and below the denormal limit.
  let shift = Math.max(len - MANT_BITS, MIN_EXP - e);
  if (shift > 0) {
    if (shift > len + 1) shift = len + 1;
    const kept = n >> BigInt(shift);
    const rem = n - (kept << BigInt(shift));
    const half = 1n << BigInt(shift - 1);
    let m = kept;
    if (rem > half || (rem === half && (sticky || (kept & 1n) === 1n))) m += 1n;
    n = m;
    e += shift;
    if (bitLength(n) > MANT_BITS) {
      n >>= 1n;
      e += 1;
    }
  }
  if (n === 0n) return { neg, mant: 0n, exp: 0, inf: false };
  if (bitLength(n) + e > MAX_BITS_EXP) return { neg, mant: 0n, exp: 0, inf: true };
  return { neg, mant: n, exp: e, inf: false };
}

/**
 * Parses like Redis's string2ld: the whole string must be a strtold number, no leading space,
 * no NaN, and a result that overflowed or underflowed to zero is refused. Returns null when the
 * text is not a valid float.
 */
export function parseLongDouble(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= MAX_CHARS) return null;
  const m = /^([+-]?)(?:(inf(?:inity)?)|0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?|(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?)$/i.exec(
    s,
  );
  if (m === null) return null;
  const neg = m[1] === '-';
  if (m[2] !== undefined) return { neg, mant: 0n, exp: 0, inf: true };
  if (m[3] !== undefined) {
    const intPart = m[3];
    const frac = m[4] ?? '';
    if (intPart.length + frac.length === 0) return null;
    const digits = (intPart + frac).replace(/^0+/, '');
    if (digits === '') return { ...ZERO, neg };
    const pexp = m[5] !== undefined ? clampExp(m[5]) : 0;
    const e = pexp - 4 * frac.length;
    return finishParse(roundBinary(neg, BigInt('0x' + digits), e));
  }
  const intPart = m[6] ?? '';
  const frac = m[7] ?? '';
  if (intPart.length + frac.length === 0) return null;
  const digits = (intPart + frac).replace(/^0+/, '');
  if (digits === '') return { ...ZERO, neg };
  const e10 = (m[8] !== undefined ? clampExp(m[8]) : 0) - frac.length;
  // Quick range checks keep BigInt sizes bounded for absurd exponents.
  const mag = digits.length + e10; // value < 10^mag
  if (mag > 4934) return null; // overflow (HUGE_VAL, ERANGE)
  if (mag < -4952) return null; // underflow to zero (ERANGE)
  const d = BigInt(digits);
  let r: LongDouble;
  if (e10 >= 0) r = roundBinary(neg, d * 10n ** BigInt(e10), 0);
  else r = divideToLongDouble(neg, d, 10n ** BigInt(-e10));
  return finishParse(r);
}

function finishParse(r: LongDouble): LongDouble | null {
  if (r.inf) return null; // ERANGE with HUGE_VAL
  if (r.mant === 0n) return null; // nonzero digits that underflowed to zero (ERANGE)
  return r;
}

function clampExp(s: string): number {
  const v = Number(s);
  if (v > 1e6) return 1e6;
  if (v < -1e6) return -1e6;
  return v;
}

/** Correctly rounded `num / den` for positive integers. */
function divideToLongDouble(neg: boolean, num: bigint, den: bigint): LongDouble {
  // Scale so the quotient has at least 66 bits (64 kept + guard bits); the remainder is sticky.
  const shift = MANT_BITS + 2 - (bitLength(num) - bitLength(den));
  const scaled = shift > 0 ? num << BigInt(shift) : num >> BigInt(-shift);
  const q = scaled / den;
  const rem = scaled - q * den;
  return roundBinary(neg, q, -shift, rem !== 0n || (shift < 0 && (num & ((1n << BigInt(-shift)) - 1n)) !== 0n));
}

/** Exact sum rounded once, as the FPU does for long double addition. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | 'nan' {
  if (a.inf || b.inf) {
    if (a.inf && b.inf && a.neg !== b.neg) return 'nan';
    return a.inf ? a : b;
  }
  if (a.mant === 0n) return b.mant === 0n ? { ...ZERO, neg: a.neg && b.neg } : b;
  if (b.mant === 0n) return a;
  const e = Math.min(a.exp, b.exp);
  const av = (a.neg ? -a.mant : a.mant) << BigInt(a.exp - e);
  const bv = (b.neg ? -b.mant : b.mant) << BigInt(b.exp - e);
  const sum = av + bv;
  if (sum === 0n) return { ...ZERO };
  return roundBinary(sum < 0n, sum < 0n ? -sum : sum, e);
}

/** `%.17Lf` with trailing zeros (and a bare '.') removed, "-0" written "0": ld2string LD_STR_HUMAN. */
export function formatLongDoubleHuman(v: LongDouble): string {
  if (v.inf) return v.neg ? '-inf' : 'inf';
  const FRAC = 17;
  let intText: string;
  let fracText: string;
  if (v.exp >= 0) {
    intText = (v.mant << BigInt(v.exp)).toString();
    fracText = '';
  } else {
    // value * 10^17 = mant * 10^17 / 2^-exp, rounded half to even.
    const den = 1n << BigInt(-v.exp);
    const num = v.mant * 10n ** BigInt(FRAC);
    let q = num / den;
    const rem = num - q * den;
    const twice = rem * 2n;
    if (twice > den || (twice === den && (q & 1n) === 1n)) q += 1n;
    const text = q.toString().padStart(FRAC + 1, '0');
    intText = text.slice(0, text.length - FRAC);
    fracText = text.slice(text.length - FRAC).replace(/0+$/, '');
  }
  const body = fracText === '' ? intText : `${intText}.${fracText}`;
  if (body === '0') return '0';
  return v.neg ? '-' + body : body;
}

/**
 * INCRBYFLOAT's computation: `current + incr` as Redis stores it. Returns 'notfloat' when either
 * operand is not a valid float, 'nan' when the sum is NaN or infinite.
 */
export function incrByFloatText(current: string, incr: string): string | 'notfloat' | 'nan' {
  const a = parseLongDouble(current);
  if (a === null) return 'notfloat';
  const b = parseLongDouble(incr);
  if (b === null) return 'notfloat';
  const sum = addLongDouble(a, b);
  if (sum === 'nan' || sum.inf) return 'nan';
  return formatLongDoubleHuman(sum);
}
