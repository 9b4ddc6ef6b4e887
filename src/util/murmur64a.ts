/**
 * MurmurHash64A (Austin Appleby's MurmurHash2, 64-bit variant), the hash Redis's HyperLogLog
 * applies to every element (seed 0xadc83b19). Redis reads the 8-byte blocks little endian on
 * every architecture, so the result is a pure function of the bytes.
 *
 * JS has no 64-bit integer arithmetic outside BigInt, which allocates; PFADD hashes every element
 * it gets, so the 64-bit state is kept as two uint32 halves and multiplied with 16-bit partial
 * products (all exact in doubles). The result is returned in a shared object (no allocation per
 * call): read `hi`/`lo` before the next call.
 */

/** The multiplier 0xc6a4a7935bd1e995, as halves and as 16-bit pieces of the low half. */
const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;
const M_LO_0 = M_LO & 0xffff;
const M_LO_1 = M_LO >>> 16;

/** The hash of the last call (unsigned 32-bit halves). */
export interface Hash64 {
  hi: number;
  lo: number;
}

const out: Hash64 = { hi: 0, lo: 0 };

/**
 * Scratch state in a typed array: its elements are stored unboxed, whereas module-level
 * variables holding uint32 values above 2^31 would allocate a heap number on every write.
 * [0..1] product of mulM (hi, lo), [2..3] hash state (hi, lo).
 */
const S = new Uint32Array(4);

/** (hi:lo) * M mod 2^64 → S[0]:S[1]. */
function mulM(hi: number, lo: number): void {
  const a0 = lo & 0xffff;
  const a1 = lo >>> 16;
  const p00 = a0 * M_LO_0;
  const mid = a1 * M_LO_0 + a0 * M_LO_1 + (p00 >>> 16);
  S[1] = ((mid & 0xffff) << 16) | (p00 & 0xffff);
  const carry = Math.floor(mid / 65536) + a1 * M_LO_1;
  S[0] = carry + Math.imul(hi, M_LO) + Math.imul(lo, M_HI);
}

/** Mixes one 8-byte block (kHi:kLo) into the state. */
function mixBlock(kHi: number, kLo: number): void {
  mulM(kHi, kLo);
  // k ^= k >> 47; k *= m
  const hi = S[0]!;
  mulM(hi, S[1]! ^ (hi >>> 15));
  // h ^= k; h *= m
  mulM(S[2]! ^ S[0]!, S[3]! ^ S[1]!);
  S[2] = S[0]!;
  S[3] = S[1]!;
}

/** Seeds the state: h = seed ^ (len * m). */
function start(len: number, seed: number): void {
  mulM(0, len);
  S[2] = S[0]!;
  S[3] = S[1]! ^ seed;
}

/** h ^= h >> 47; h *= m; h ^= h >> 47 → out. */
function finish(): Hash64 {
  const hi = S[2]!;
  mulM(hi, S[3]! ^ (hi >>> 15));
  const rHi = S[0]!;
  out.hi = rHi;
  out.lo = (S[1]! ^ (rHi >>> 15)) >>> 0;
  return out;
}

/** MurmurHash64A of the bytes of a latin1 byte string. The returned object is reused. */
export function murmurHash64A(s: string, seed: number): Hash64 {
  const len = s.length;
  start(len, seed);
  const blocks = len - (len & 7);
  let i = 0;
  for (; i < blocks; i += 8) {
    const lo = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24);
    const hi = s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 8) | (s.charCodeAt(i + 6) << 16) | (s.charCodeAt(i + 7) << 24);
    mixBlock(hi, lo);
  }
  const tail = len & 7;
  if (tail !== 0) {
    // The tail bytes are xored in at their little-endian positions, then h *= m.
    let tLo = 0;
    let tHi = 0;
    for (let j = 0; j < tail; j++) {
      const b = s.charCodeAt(i + j);
      if (j < 4) tLo |= b << (8 * j);
      else tHi |= b << (8 * (j - 4));
    }
    mulM(S[2]! ^ tHi, S[3]! ^ tLo);
    S[2] = S[0]!;
    S[3] = S[1]!;
  }
  return finish();
}

/**
 * MurmurHash64A of an 8-byte little-endian integer given as halves (PFSELFTEST hashes its
 * uint64 counters this way, without building a string per element).
 */
export function murmurHash64AWord(hi: number, lo: number, seed: number): Hash64 {
  start(8, seed);
  mixBlock(hi, lo);
  return finish();
}

/** The hash as one bigint (tests, diagnostics). */
export function murmurHash64ABig(s: string, seed: number): bigint {
  const h = murmurHash64A(s, seed);
  return (BigInt(h.hi) << 32n) | BigInt(h.lo);
}
