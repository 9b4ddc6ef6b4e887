/**
 * Redis's geohash arithmetic (geohash.c, geohash_helper.c), bit for bit.
 *
 * A GEO set is a sorted set whose scores are 52-bit interleaved geohashes: the longitude and
 * the latitude are each cut into 2^26 intervals (longitude over [-180, 180], latitude over the
 * Web Mercator limits ±85.05112878), and the two 26-bit interval indexes are interleaved with
 * the latitude in the even bits and the longitude in the odd bits. A member's position is the
 * centre of its cell, so positions come back slightly moved from what GEOADD was given, exactly
 * as Redis returns them.
 *
 * Cells are kept as their two axis indexes (`lat`, `lon`) and a step (bits per axis) rather than
 * as the interleaved 64-bit word: moving to a neighbour is then plain index arithmetic, and the
 * word is built only where a score is needed. Indexes can reach 2^step (a point on the maximum
 * longitude or latitude lands one past the last cell, as in Redis) and, for cells decoded from
 * arbitrary zset scores, any 32-bit value.
 *
 * Distances use Redis's haversine on a sphere of radius 6372797.560856 m. JavaScript's
 * Math.sin/cos/asin are not glibc's: for about 1% of point pairs the distance differs from
 * Redis's in the last bit, which shows only in full-precision STOREDIST scores (the `%.4f`
 * distances of replies are the same).
 */
import { decomposeDouble } from './numbers.js';

export const GEO_STEP_MAX = 26;
export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;
export const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;
const D_R = Math.PI / 180.0;
const TWO32 = 4294967296;

/** A geohash cell: interval indexes along each axis at `step` bits of precision. */
export interface Cell {
  lat: number;
  lon: number;
  step: number;
}

/** A cell's extent in degrees (GeoHashArea). */
export interface Area {
  lonMin: number;
  lonMax: number;
  latMin: number;
  latMax: number;
}

/** The search shape of GEOSEARCH / GEORADIUS (GeoShape): a circle or an axis-aligned box. */
export interface GeoShape {
  box: boolean;
  /** Centre. */
  lon: number;
  lat: number;
  /** Radius, or the box's width and height, in the unit of `conversion`. */
  radius: number;
  width: number;
  height: number;
  /** Metres per unit. */
  conversion: number;
}

// ---------------------------------------------------------------------------------------------
// Bit interleaving, on 32-bit halves

/** Spreads the low 16 bits of x to the even bit positions of a 32-bit word. */
function spread16(x: number): number {
  x &= 0xffff;
  x = (x | (x << 8)) & 0x00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f;
  x = (x | (x << 2)) & 0x33333333;
  x = (x | (x << 1)) & 0x55555555;
  return x;
}

/** Gathers the even bits of a 32-bit word into 16 bits (inverse of spread16). */
function compact16(x: number): number {
  x &= 0x55555555;
  x = (x | (x >>> 1)) & 0x33333333;
  x = (x | (x >>> 2)) & 0x0f0f0f0f;
  x = (x | (x >>> 4)) & 0x00ff00ff;
  x = (x | (x >>> 8)) & 0x0000ffff;
  return x;
}

/** interleave64(lat, lon) split into its high and low 32-bit words (both unsigned). */
function interleave(lat: number, lon: number): [hi: number, lo: number] {
  const lo = (spread16(lat) | (spread16(lon) << 1)) >>> 0;
  const hi = (spread16(lat >>> 16) | (spread16(lon >>> 16) << 1)) >>> 0;
  return [hi, lo];
}

/** deinterleave64 of the 64-bit word hi:lo into a step-26 cell. */
function deinterleave(hi: number, lo: number): Cell {
  const lat = (compact16(lo) | (compact16(hi) << 16)) >>> 0;
  const lon = (compact16(lo >>> 1) | (compact16(hi >>> 1) << 16)) >>> 0;
  return { lat, lon, step: GEO_STEP_MAX };
}

/** The interleaved word of a cell as a 64-bit integer. */
export function cellBits(cell: Cell): bigint {
  const [hi, lo] = interleave(cell.lat, cell.lon);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

// ---------------------------------------------------------------------------------------------
// Encoding and decoding

/**
 * geohashEncode: the cell of (lon, lat) at `step` bits in the given ranges, or null when the
 * point is outside them or outside the WGS84 limits.
 */
export function encode(
  lonMin: number,
  lonMax: number,
  latMin: number,
  latMax: number,
  lon: number,
  lat: number,
  step: number,
): Cell | null {
  if (lon > GEO_LONG_MAX || lon < GEO_LONG_MIN || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN) return null;
  if (lat < latMin || lat > latMax || lon < lonMin || lon > lonMax) return null;
  let latOffset = (lat - latMin) / (latMax - latMin);
  let lonOffset = (lon - lonMin) / (lonMax - lonMin);
  const scale = 2 ** step;
  latOffset *= scale;
  lonOffset *= scale;
  // interleave64 takes uint32_t: the double offsets are truncated.
  return { lat: Math.trunc(latOffset), lon: Math.trunc(lonOffset), step };
}

/** geohashEncodeWGS84: the cell of a point in Redis's coordinate ranges. */
export function encodeWGS84(lon: number, lat: number, step: number): Cell | null {
  return encode(GEO_LONG_MIN, GEO_LONG_MAX, GEO_LAT_MIN, GEO_LAT_MAX, lon, lat, step);
}

/**
 * geohashAlign52Bits of a step-26 point cell as the integer GEOADD writes into ZADD (decimal
 * text, exact even past 2^53, which only a point on the maximum longitude reaches).
 */
export function scoreText(cell: Cell): string {
  const [hi, lo] = interleave(cell.lat, cell.lon);
  const v = hi * TWO32 + lo;
  if (v <= Number.MAX_SAFE_INTEGER) return String(v);
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/**
 * scoresOfGeoHashBox: the score interval [min, max) holding every point of a cell. The 64-bit
 * bounds are converted to doubles (rounded to nearest), as Redis passes them to the range scan.
 */
export function cellScoreRange(cell: Cell): [min: number, max: number] {
  const [hi, lo] = interleave(cell.lat, cell.lon);
  const shift = 2 ** (52 - cell.step * 2);
  // One rounding each: hi * 2^32 is exact, the sum rounds once, the power-of-two scale is exact.
  return [(hi * TWO32 + lo) * shift, (hi * TWO32 + (lo + 1)) * shift];
}

/**
 * decodeGeohash's `(uint64_t)score` on x86-64 followed by deinterleave64: the step-26 cell a
 * zset score names. Ordinary GEO scores are integers below 2^52; other scores (a member added
 * with ZADD) convert as the C cast does there: truncation, two's complement for negatives, and
 * 0x8000000000000000 (or 0 past 2^64) when out of range.
 */
export function scoreToCell(score: number): Cell {
  if (score >= 0 && score < 9007199254740992) {
    const t = Math.trunc(score);
    const hi = Math.floor(t / TWO32);
    return deinterleave(hi, t - hi * TWO32);
  }
  let bits: bigint;
  if (score >= 18446744073709551616) bits = 0n;
  else if (score >= 0) bits = BigInt(score);
  else if (score > -9223372036854775808) bits = BigInt.asUintN(64, BigInt(Math.trunc(score)));
  else bits = 0x8000000000000000n;
  return deinterleave(Number(bits >> 32n), Number(bits & 0xffffffffn));
}

/** geohashDecode: the extent of a cell in the given ranges. */
export function decode(cell: Cell, lonMin: number, lonMax: number, latMin: number, latMax: number): Area {
  const scale = 2 ** cell.step;
  const latScale = latMax - latMin;
  const lonScale = lonMax - lonMin;
  // The indexes are uint32_t in Redis: index + 1 wraps at 2^32.
  return {
    latMin: latMin + (cell.lat / scale) * latScale,
    latMax: latMin + (((cell.lat + 1) >>> 0) / scale) * latScale,
    lonMin: lonMin + (cell.lon / scale) * lonScale,
    lonMax: lonMin + (((cell.lon + 1) >>> 0) / scale) * lonScale,
  };
}

export function decodeWGS84(cell: Cell): Area {
  return decode(cell, GEO_LONG_MIN, GEO_LONG_MAX, GEO_LAT_MIN, GEO_LAT_MAX);
}

/** geohashDecodeToLongLatWGS84: the centre of a cell, clamped to the valid ranges. */
export function cellCenter(cell: Cell): [lon: number, lat: number] {
  const a = decodeWGS84(cell);
  let lon = (a.lonMin + a.lonMax) / 2;
  if (lon > GEO_LONG_MAX) lon = GEO_LONG_MAX;
  if (lon < GEO_LONG_MIN) lon = GEO_LONG_MIN;
  let lat = (a.latMin + a.latMax) / 2;
  if (lat > GEO_LAT_MAX) lat = GEO_LAT_MAX;
  if (lat < GEO_LAT_MIN) lat = GEO_LAT_MIN;
  return [lon, lat];
}

/** The position a zset score stands for (decodeGeohash). */
export function scoreToLonLat(score: number): [lon: number, lat: number] {
  return cellCenter(scoreToCell(score));
}

const GEOALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';

/**
 * GEOHASH's 11-character standard geohash of a score: the position is decoded and re-encoded
 * over the standard latitude range [-90, 90]; the 11th character stands for bits Redis does not
 * have and is always '0'.
 */
export function standardGeohash(score: number): string {
  const [lon, lat] = scoreToLonLat(score);
  const cell = encode(-180, 180, -90, 90, lon, lat, GEO_STEP_MAX);
  if (cell === null) return '';
  const bits = cellBits(cell);
  let out = '';
  for (let i = 0; i < 10; i++) out += GEOALPHABET[Number((bits >> BigInt(52 - (i + 1) * 5)) & 0x1fn)];
  return out + '0';
}

// ---------------------------------------------------------------------------------------------
// Distances

/** geohashGetDistance: haversine great-circle distance in metres. */
export function distance(lon1d: number, lat1d: number, lon2d: number, lat2d: number): number {
  const lat1r = lat1d * D_R;
  const lon1r = lon1d * D_R;
  const lat2r = lat2d * D_R;
  const lon2r = lon2d * D_R;
  const u = Math.sin((lat2r - lat1r) / 2);
  const v = Math.sin((lon2r - lon1r) / 2);
  return 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v));
}

/**
 * geoAppendIfWithinShape's test: the distance in metres from the shape's centre to (lon, lat),
 * or -1 when the point is outside the shape. A box contains a point whose east-west and
 * north-south distances from the centre are within half the width and half the height.
 */
export function distanceIfInShape(shape: GeoShape, lon: number, lat: number): number {
  if (!shape.box) {
    const d = distance(shape.lon, shape.lat, lon, lat);
    return d > shape.radius * shape.conversion ? -1 : d;
  }
  const lonDistance = distance(lon, lat, shape.lon, lat);
  const latDistance = distance(lon, lat, lon, shape.lat);
  if (lonDistance > (shape.width * shape.conversion) / 2 || latDistance > (shape.height * shape.conversion) / 2) return -1;
  return distance(shape.lon, shape.lat, lon, lat);
}

// ---------------------------------------------------------------------------------------------
// Search areas

/** geohashEstimateStepsByRadius: the cell size whose 3x3 neighbourhood covers the radius. */
export function estimateStepsByRadius(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2; // make sure the range is included in most of the base cases
  // Cells get narrower towards the poles.
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

/** geohashBoundingBox: [minLon, minLat, maxLon, maxLat] of the search shape. */
export function boundingBox(shape: GeoShape): [number, number, number, number] {
  const { lon, lat } = shape;
  const height = shape.conversion * (shape.box ? shape.height / 2 : shape.radius);
  const width = shape.conversion * (shape.box ? shape.width / 2 : shape.radius);
  const latDelta = height / EARTH_RADIUS_IN_METERS / D_R;
  // A box of fixed width spans more longitude on its edge nearer to the pole.
  const lonDeltaTop = width / EARTH_RADIUS_IN_METERS / Math.cos((lat + latDelta) * D_R) / D_R;
  const lonDeltaBottom = width / EARTH_RADIUS_IN_METERS / Math.cos((lat - latDelta) * D_R) / D_R;
  const southern = lat < 0;
  return [
    southern ? lon - lonDeltaBottom : lon - lonDeltaTop,
    lat - latDelta,
    southern ? lon + lonDeltaBottom : lon + lonDeltaTop,
    lat + latDelta,
  ];
}

function moved(cell: Cell, dLon: number, dLat: number): Cell {
  // geohash_move_x / _y wrap around modulo 2^step on the axis they move, and leave the other
  // axis untouched (even an index of 2^step).
  const mask = 2 ** cell.step - 1;
  return {
    lon: dLon === 0 ? cell.lon : (cell.lon + dLon) & mask,
    lat: dLat === 0 ? cell.lat : (cell.lat + dLat) & mask,
    step: cell.step,
  };
}

/**
 * geohashCalculateAreasByShapeWGS84: the centre cell and its eight neighbours to scan, in Redis's
 * order (centre, N, S, E, W, NE, NW, SE, SW); neighbours that cannot hold a point of the shape
 * are null (GZERO).
 */
export function searchAreas(shape: GeoShape): (Cell | null)[] {
  const [minLon, minLat, maxLon, maxLat] = boundingBox(shape);
  const radiusMeters =
    (shape.box ? Math.sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2)) : shape.radius) *
    shape.conversion;
  let steps = estimateStepsByRadius(radiusMeters, shape.lat);
  let hash = encodeWGS84(shape.lon, shape.lat, steps)!;

  // When the shape reaches past the neighbours' far edges the cells are too small: one step up.
  const north = decodeWGS84(moved(hash, 0, 1));
  const south = decodeWGS84(moved(hash, 0, -1));
  const east = decodeWGS84(moved(hash, 1, 0));
  const west = decodeWGS84(moved(hash, -1, 0));
  const decreaseStep = north.latMax < maxLat || south.latMin > minLat || east.lonMax < maxLon || west.lonMin > minLon;
  if (steps > 1 && decreaseStep) {
    steps--;
    hash = encodeWGS84(shape.lon, shape.lat, steps)!;
  }
  const area = decodeWGS84(hash);
  const n: (Cell | null)[] = [
    hash,
    moved(hash, 0, 1), // north
    moved(hash, 0, -1), // south
    moved(hash, 1, 0), // east
    moved(hash, -1, 0), // west
    moved(hash, 1, 1), // north-east
    moved(hash, -1, 1), // north-west
    moved(hash, 1, -1), // south-east
    moved(hash, -1, -1), // south-west
  ];
  // Drop the neighbours on sides the shape does not reach.
  if (steps >= 2) {
    if (area.latMin < minLat) n[2] = n[8] = n[7] = null;
    if (area.latMax > maxLat) n[1] = n[5] = n[6] = null;
    if (area.lonMin < minLon) n[4] = n[8] = n[6] = null;
    if (area.lonMax > maxLon) n[3] = n[7] = n[5] = null;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// printf-style formatting for the GEO replies

/** Exact `%.<digits>f` of a finite x >= 0 (glibc: the exact binary value rounded half-even). */
function exactFixed(x: number, digits: number): string {
  const { mant, e2 } = decomposeDouble(x);
  const scaled = mant * 10n ** BigInt(digits);
  let q: bigint;
  if (e2 >= 0) q = scaled << BigInt(e2);
  else {
    const sh = BigInt(-e2);
    q = scaled >> sh;
    const rem = scaled - (q << sh);
    const half = 1n << (sh - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q++;
  }
  let s = q.toString();
  if (digits === 0) return s;
  if (s.length <= digits) s = '0'.repeat(digits - s.length + 1) + s;
  return s.slice(0, s.length - digits) + '.' + s.slice(s.length - digits);
}

/** C's printf("%.<digits>f", v). */
export function formatFixed(v: number, digits: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  const neg = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  let body: string;
  // toFixed is exact except that it rounds ties up where printf rounds them to even; a tie is
  // only possible when x * 2^(digits+1) is an integer.
  if (a < 1e21 && !Number.isInteger(a * 2 ** (digits + 1))) body = a.toFixed(digits);
  else body = exactFixed(a, digits);
  return neg ? '-' + body : body;
}

/**
 * Redis's addReplyHumanLongDouble text (ld2string LD_STR_HUMAN): "%.17Lf" with the trailing
 * zeros and dot removed, and "-0" written as "0". Used for GEOPOS / WITHCOORD coordinates.
 */
export function formatHuman17(v: number): string {
  let s = formatFixed(v, 17);
  if (s.includes('.')) {
    let e = s.length;
    while (s.charCodeAt(e - 1) === 48) e--;
    if (s.charCodeAt(e - 1) === 46) e--;
    s = s.slice(0, e);
  }
  return s === '-0' ? '0' : s;
}
