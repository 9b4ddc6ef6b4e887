/**
 * The GEO family (Redis 7.0 geo.c): GEOADD GEOPOS GEODIST GEOHASH GEOSEARCH GEOSEARCHSTORE
 * GEORADIUS GEORADIUSBYMEMBER and their _RO variants.
 *
 * A GEO set is a plain sorted set whose scores are 52-bit geohashes (src/util/geohash.ts), so
 * every zset command works on it and the value type is ZSetValue. As in Redis:
 *  - GEOADD encodes the points and runs ZADD; it is propagated as that ZADD (score as integer).
 *  - searches scan the centre cell and its eight neighbours as score ranges, keep the points
 *    inside the shape, then sort by distance (a full sort is stable like glibc's qsort; a
 *    partial one for COUNT is Redis's pqsort, so ties come out in Redis's order).
 *  - distances reply as "%.4f" bulk strings, coordinates with addReplyHumanLongDouble's text
 *    (RESP2 bulk, RESP3 double), hashes as integers.
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';
import { ZSetValue } from '../types/zset.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';
import { getDouble, readZset } from './zset-common.js';
import { zaddCommand } from './zset-basic.js';
import {
  GEO_LAT_MAX,
  GEO_LAT_MIN,
  GEO_LONG_MAX,
  GEO_LONG_MIN,
  GEO_STEP_MAX,
  cellScoreRange,
  distance,
  distanceIfInShape,
  encodeWGS84,
  formatFixed,
  formatHuman17,
  scoreText,
  scoreToLonLat,
  searchAreas,
  standardGeohash,
  type Cell,
  type GeoShape,
} from '../util/geohash.js';

// ---------------------------------------------------------------------------------------------
// Argument helpers (each replies with Redis's error and returns false / a negative on failure)

/** extractLongLatOrReply: two doubles within the WGS84 limits, stored into `xy`. */
function extractLonLat(c: Client, argv: string[], i: number, xy: { lon: number; lat: number }): boolean {
  const lon = getDouble(argv[i]!);
  if (lon === null) {
    c.w.error(Err.notFloat);
    return false;
  }
  const lat = getDouble(argv[i + 1]!);
  if (lat === null) {
    c.w.error(Err.notFloat);
    return false;
  }
  if (lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) {
    c.w.error(`ERR invalid longitude,latitude pair ${formatFixed(lon, 6)},${formatFixed(lat, 6)}`);
    return false;
  }
  xy.lon = lon;
  xy.lat = lat;
  return true;
}

/** extractUnitOrReply: metres per unit, or -1 after the error reply. */
function extractUnit(c: Client, unit: string): number {
  switch (unit.toLowerCase()) {
    case 'm':
      return 1;
    case 'km':
      return 1000;
    case 'ft':
      return 0.3048;
    case 'mi':
      return 1609.34;
    default:
      c.w.error('ERR unsupported unit provided. please use M, KM, FT, MI');
      return -1;
  }
}

/** extractDistanceOrReply: `<radius> <unit>`. */
function extractDistance(c: Client, argv: string[], i: number, shape: GeoShape): boolean {
  const radius = getDouble(argv[i]!);
  if (radius === null) {
    c.w.error('ERR need numeric radius');
    return false;
  }
  if (radius < 0) {
    c.w.error('ERR radius cannot be negative');
    return false;
  }
  shape.radius = radius;
  const conversion = extractUnit(c, argv[i + 1]!);
  if (conversion < 0) return false;
  shape.conversion = conversion;
  return true;
}

/** extractBoxOrReply: `<width> <height> <unit>`. */
function extractBox(c: Client, argv: string[], i: number, shape: GeoShape): boolean {
  const width = getDouble(argv[i]!);
  if (width === null) {
    c.w.error('ERR need numeric width');
    return false;
  }
  const height = getDouble(argv[i + 1]!);
  if (height === null) {
    c.w.error('ERR need numeric height');
    return false;
  }
  if (height < 0 || width < 0) {
    c.w.error('ERR height or width cannot be negative');
    return false;
  }
  shape.width = width;
  shape.height = height;
  const conversion = extractUnit(c, argv[i + 2]!);
  if (conversion < 0) return false;
  shape.conversion = conversion;
  return true;
}

/** longLatFromMember: the member's position, or false when it is not in the set. */
function memberPosition(z: ZSetValue, member: string, shape: GeoShape): boolean {
  const score = z.score(member);
  if (score === undefined) return false;
  [shape.lon, shape.lat] = scoreToLonLat(score);
  return true;
}

// ---------------------------------------------------------------------------------------------
// GEOADD GEOPOS GEODIST GEOHASH

/** GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD of the encoded positions. */
function geoaddCommand(c: Client, argv: string[]): void {
  let xx = false;
  let nx = false;
  let longidx = 2;
  for (; longidx < argv.length; longidx++) {
    const opt = argv[longidx]!.toLowerCase();
    if (opt === 'nx') nx = true;
    else if (opt === 'xx') xx = true;
    else if (opt !== 'ch') break; // CH is ZADD's business
  }
  if ((argv.length - longidx) % 3 !== 0 || (xx && nx)) {
    c.w.error(Err.syntax);
    return;
  }
  const elements = (argv.length - longidx) / 3;
  const zargv = ['zadd', ...argv.slice(1, longidx)];
  const xy = { lon: 0, lat: 0 };
  for (let i = 0; i < elements; i++) {
    const at = longidx + i * 3;
    if (!extractLonLat(c, argv, at, xy)) return;
    zargv.push(scoreText(encodeWGS84(xy.lon, xy.lat, GEO_STEP_MAX)!), argv[at + 2]!);
  }
  // Redis replaces the command vector with this ZADD, so replicas and the AOF receive it.
  c.server.propagator.rewrite(zargv);
  zaddCommand(c, zargv);
}

function writeCoordinate(c: Client, v: number): void {
  c.w.doubleText(formatHuman17(v));
}

function geoposCommand(c: Client, argv: string[]): void {
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  c.w.array(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const score = z === undefined ? undefined : z.score(argv[j]!);
    if (score === undefined) {
      c.w.nullArray();
      continue;
    }
    const [lon, lat] = scoreToLonLat(score);
    c.w.array(2);
    writeCoordinate(c, lon);
    writeCoordinate(c, lat);
  }
}

function geodistCommand(c: Client, argv: string[]): void {
  let toMeter = 1;
  if (argv.length === 5) {
    toMeter = extractUnit(c, argv[4]!);
    if (toMeter < 0) return;
  } else if (argv.length > 5) {
    c.w.error(Err.syntax);
    return;
  }
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  const s1 = z === undefined ? undefined : z.score(argv[2]!);
  const s2 = z === undefined ? undefined : z.score(argv[3]!);
  if (s1 === undefined || s2 === undefined) {
    c.w.nullBulk();
    return;
  }
  const [lon1, lat1] = scoreToLonLat(s1);
  const [lon2, lat2] = scoreToLonLat(s2);
  c.w.bulk(formatFixed(distance(lon1, lat1, lon2, lat2) / toMeter, 4));
}

function geohashCommand(c: Client, argv: string[]): void {
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  c.w.array(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const score = z === undefined ? undefined : z.score(argv[j]!);
    if (score === undefined) c.w.nullBulk();
    else c.w.bulk(standardGeohash(score));
  }
}

// ---------------------------------------------------------------------------------------------
// Searches

/** geoPoint: a member found inside the search shape. */
interface GeoPoint {
  member: string;
  score: number;
  lon: number;
  lat: number;
  /** Metres from the centre (divided by the unit before replying). */
  dist: number;
}

/**
 * membersOfAllNeighbors: the points of the nine cells (centre first) that lie inside the shape.
 * With `limit` (COUNT ... ANY) the scan stops once that many were found. A cell equal to the one
 * processed just before is skipped (huge radii make neighbours coincide); like Redis this does
 * not apply right after the centre cell.
 */
function pointsInShape(z: ZSetValue, shape: GeoShape, limit: number): GeoPoint[] {
  const found: GeoPoint[] = [];
  const cells = searchAreas(shape);
  let last: Cell | null = null;
  let lastIndex = 0;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!;
    if (cell === null) continue;
    if (lastIndex !== 0 && last !== null && cell.lat === last.lat && cell.lon === last.lon && cell.step === last.step) continue;
    if (found.length > 0 && limit > 0 && found.length >= limit) break;
    scanCell(z, cell, shape, found, limit);
    last = cell;
    lastIndex = i;
  }
  return found;
}

/** geoGetPointsInRange over one cell's score interval [min, max). */
function scanCell(z: ZSetValue, cell: Cell, shape: GeoShape, found: GeoPoint[], limit: number): void {
  const [min, max] = cellScoreRange(cell);
  z.forRange(z.scoreRank(min, false), z.size, false, (member, score) => {
    if (!(score < max)) return false;
    const [lon, lat] = scoreToLonLat(score);
    const dist = distanceIfInShape(shape, lon, lat);
    if (dist >= 0) found.push({ member, score, lon, lat, dist });
    return !(found.length > 0 && limit > 0 && found.length >= limit);
  });
}

const byDistAsc = (a: GeoPoint, b: GeoPoint): number => (a.dist > b.dist ? 1 : a.dist === b.dist ? 0 : -1);
const byDistDesc = (a: GeoPoint, b: GeoPoint): number => -byDistAsc(a, b);

const RADIUS_COORDS = 1;
const RADIUS_MEMBER = 2;
const RADIUS_NOSTORE = 4;
const GEOSEARCH = 8;
const GEOSEARCHSTORE = 16;

/**
 * georadiusGeneric: GEORADIUS[_RO], GEORADIUSBYMEMBER[_RO], GEOSEARCH and GEOSEARCHSTORE, with
 * Redis's argument order, error precedence and replies.
 */
function georadiusGeneric(c: Client, argv: string[], srcKeyIndex: number, flags: number): void {
  let storekey: string | null = null;
  let storedist = false;
  const z = readZset(c, argv[srcKeyIndex]!);
  if (z === null) return;

  const shape: GeoShape = { box: false, lon: 0, lat: 0, radius: 0, width: 0, height: 0, conversion: 0 };
  let baseArgs: number;
  if (flags & RADIUS_COORDS) {
    baseArgs = 6;
    if (!extractLonLat(c, argv, 2, shape)) return;
    if (!extractDistance(c, argv, baseArgs - 2, shape)) return;
  } else if (flags & RADIUS_MEMBER) {
    baseArgs = 5;
    // Without the key the arguments are still parsed, to pick the reply (array or STORE count).
    if (z !== undefined) {
      if (!memberPosition(z, argv[2]!, shape)) {
        c.w.error('ERR could not decode requested zset member');
        return;
      }
      if (!extractDistance(c, argv, baseArgs - 2, shape)) return;
    }
  } else {
    baseArgs = 2;
    if (flags & GEOSEARCHSTORE) {
      baseArgs = 3;
      storekey = argv[1]!;
    }
  }

  let withdist = false;
  let withhash = false;
  let withcoords = false;
  let frommember = false;
  let fromloc = false;
  let byradius = false;
  let bybox = false;
  let sort: 'none' | 'asc' | 'desc' = 'none';
  let any = false;
  let count = 0;
  const remaining = argv.length - baseArgs;
  for (let i = 0; i < remaining; i++) {
    const at = baseArgs + i;
    const arg = argv[at]!.toLowerCase();
    if (arg === 'withdist') withdist = true;
    else if (arg === 'withhash') withhash = true;
    else if (arg === 'withcoord') withcoords = true;
    else if (arg === 'any') any = true;
    else if (arg === 'asc') sort = 'asc';
    else if (arg === 'desc') sort = 'desc';
    else if (arg === 'count' && i + 1 < remaining) {
      const n = parseInt64(argv[at + 1]!);
      if (n === null) {
        c.w.error(Err.notInteger);
        return;
      }
      if (n <= 0) {
        c.w.error('ERR COUNT must be > 0');
        return;
      }
      count = n;
      i++;
    } else if ((arg === 'store' || arg === 'storedist') && i + 1 < remaining && !(flags & RADIUS_NOSTORE) && !(flags & GEOSEARCH)) {
      storekey = argv[at + 1]!;
      storedist = arg === 'storedist';
      i++;
    } else if (arg === 'storedist' && flags & GEOSEARCH && flags & GEOSEARCHSTORE) {
      storedist = true;
    } else if (arg === 'frommember' && i + 1 < remaining && flags & GEOSEARCH && !fromloc) {
      // Without the key the member cannot be looked up; the missing key decides the reply.
      if (z !== undefined && !memberPosition(z, argv[at + 1]!, shape)) {
        c.w.error('ERR could not decode requested zset member');
        return;
      }
      frommember = true;
      i++;
    } else if (arg === 'fromlonlat' && i + 2 < remaining && flags & GEOSEARCH && !frommember) {
      if (!extractLonLat(c, argv, at + 1, shape)) return;
      fromloc = true;
      i += 2;
    } else if (arg === 'byradius' && i + 2 < remaining && flags & GEOSEARCH && !bybox) {
      if (!extractDistance(c, argv, at + 1, shape)) return;
      shape.box = false;
      byradius = true;
      i += 2;
    } else if (arg === 'bybox' && i + 3 < remaining && flags & GEOSEARCH && !byradius) {
      if (!extractBox(c, argv, at + 1, shape)) return;
      shape.box = true;
      bybox = true;
      i += 3;
    } else {
      c.w.error(Err.syntax);
      return;
    }
  }

  if (storekey !== null && (withdist || withhash || withcoords)) {
    const what = flags & GEOSEARCHSTORE ? 'GEOSEARCHSTORE' : 'STORE option in GEORADIUS';
    c.w.error(`ERR ${what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
    return;
  }
  if (flags & GEOSEARCH && !(frommember || fromloc)) {
    c.w.error(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${argv[0]}`);
    return;
  }
  if (flags & GEOSEARCH && !(byradius || bybox)) {
    c.w.error(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${argv[0]}`);
    return;
  }
  if (any && count === 0) {
    c.w.error('ERR the ANY argument requires COUNT argument');
    return;
  }

  if (z === undefined) {
    if (storekey !== null) {
      // dbDelete: no expiry check on the destination, as in Redis.
      if (c.db.delete(storekey)) c.server.keyspace.changed(c.db, storekey, 'g', 'del');
      c.w.int(0);
    } else c.w.array(0);
    return;
  }

  // COUNT needs the nearest points, so it implies ASC (unless ANY takes the first found).
  if (count !== 0 && sort === 'none' && !any) sort = 'asc';

  const points = pointsInShape(z, shape, any ? count : 0);
  if (points.length === 0 && storekey === null) {
    c.w.array(0);
    return;
  }
  const total = points.length;
  const returned = count === 0 || total < count ? total : count;
  if (sort !== 'none') {
    const cmp = sort === 'asc' ? byDistAsc : byDistDesc;
    if (returned === total) points.sort(cmp);
    else pqsort(points, cmp, 0, returned - 1);
  }

  if (storekey === null) {
    replyPoints(c, points, returned, shape.conversion, withdist, withhash, withcoords);
    return;
  }
  const fromListpack = z !== undefined && z.encoding === 'listpack';
  storePoints(c, storekey, points, returned, shape.conversion, storedist, flags & GEOSEARCH ? 'geosearchstore' : 'georadiusstore', fromListpack);
}

function replyPoints(
  c: Client,
  points: GeoPoint[],
  returned: number,
  conversion: number,
  withdist: boolean,
  withhash: boolean,
  withcoords: boolean,
): void {
  const w = c.w;
  const options = (withdist ? 1 : 0) + (withhash ? 1 : 0) + (withcoords ? 1 : 0);
  w.array(returned);
  for (let i = 0; i < returned; i++) {
    const p = points[i]!;
    if (options > 0) w.array(options + 1);
    w.bulk(p.member);
    if (withdist) w.bulk(formatFixed(p.dist / conversion, 4));
    if (withhash) w.int(scoreAsLongLong(p.score));
    if (withcoords) {
      w.array(2);
      writeCoordinate(c, p.lon);
      writeCoordinate(c, p.lat);
    }
  }
}

/** C's (long long) conversion of a score on x86-64 (out of range gives INT64_MIN). */
function scoreAsLongLong(score: number): number | bigint {
  if (Math.abs(score) <= Number.MAX_SAFE_INTEGER) return Math.trunc(score);
  if (score >= 9223372036854775808 || score < -9223372036854775808) return -9223372036854775808n;
  return BigInt(score);
}

/**
 * STORE / STOREDIST / GEOSEARCHSTORE: the first `returned` points become a new zset.
 * `fromListpack`: the members may be slices of a listpack zset (see ZSetValue.from).
 */
function storePoints(
  c: Client,
  storekey: string,
  points: GeoPoint[],
  returned: number,
  conversion: number,
  storedist: boolean,
  event: string,
  fromListpack: boolean,
): void {
  const ks = c.server.keyspace;
  if (returned > 0) {
    const entries: [string, number][] = new Array(returned);
    for (let i = 0; i < returned; i++) {
      const p = points[i]!;
      entries[i] = [p.member, storedist ? p.dist / conversion : p.score];
    }
    const cfg = c.server.config;
    // Built as a skiplist, then zsetConvertToListpackIfNeeded, as Redis does.
    const z = ZSetValue.from(entries, cfg, 'skiplist', fromListpack);
    z.convertToListpackIfSmall(cfg);
    c.db.lookupWrite(storekey); // setKey's lookupKeyWrite: an expired destination expires first
    c.db.set(storekey, z);
    ks.changed(c.db, storekey, 'z', event, returned);
    ks.signalKeyReady(c.db, storekey);
  } else if (c.db.delete(storekey)) {
    ks.changed(c.db, storekey, 'g', 'del');
  }
  c.w.int(returned);
}

// ---------------------------------------------------------------------------------------------
// pqsort

function swap<T>(a: T[], i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

function med3<T>(a: T[], i: number, j: number, k: number, cmp: (x: T, y: T) => number): number {
  return cmp(a[i]!, a[j]!) < 0
    ? cmp(a[j]!, a[k]!) < 0
      ? j
      : cmp(a[i]!, a[k]!) < 0
        ? k
        : i
    : cmp(a[j]!, a[k]!) > 0
      ? j
      : cmp(a[i]!, a[k]!) < 0
        ? i
        : k;
}

function insertionSort<T>(a: T[], base: number, n: number, cmp: (x: T, y: T) => number): void {
  for (let m = base + 1; m < base + n; m++) {
    for (let l = m; l > base && cmp(a[l - 1]!, a[l]!) > 0; l--) swap(a, l, l - 1);
  }
}

/**
 * Redis 7.0's pqsort (pqsort.c, Bentley–McIlroy quicksort that only recurses into partitions
 * overlapping [lrange, rrange]; 7.0's version has no switch to insertion sort after a pass
 * without exchanges): after it, positions lrange..rrange hold what a full sort would put there.
 * Reproduced step for step because the order of equal distances depends on it.
 */
export function pqsort<T>(a: T[], cmp: (x: T, y: T) => number, lrange: number, rrange: number): void {
  partialSort(a, 0, a.length, cmp, lrange, rrange);
}

function partialSort<T>(a: T[], base: number, n: number, cmp: (x: T, y: T) => number, lr: number, rr: number): void {
  for (;;) {
    if (n < 7) {
      insertionSort(a, base, n, cmp);
      return;
    }
    let pm = base + Math.floor(n / 2);
    if (n > 7) {
      let pl = base;
      let pn = base + n - 1;
      if (n > 40) {
        const d = Math.floor(n / 8);
        pl = med3(a, pl, pl + d, pl + 2 * d, cmp);
        pm = med3(a, pm - d, pm, pm + d, cmp);
        pn = med3(a, pn - 2 * d, pn - d, pn, cmp);
      }
      pm = med3(a, pl, pm, pn, cmp);
    }
    swap(a, base, pm);
    let pa = base + 1;
    let pb = pa;
    let pc = base + n - 1;
    let pd = pc;
    for (;;) {
      let r: number;
      while (pb <= pc && (r = cmp(a[pb]!, a[base]!)) <= 0) {
        if (r === 0) {
          swap(a, pa, pb);
          pa++;
        }
        pb++;
      }
      while (pb <= pc && (r = cmp(a[pc]!, a[base]!)) >= 0) {
        if (r === 0) {
          swap(a, pc, pd);
          pd--;
        }
        pc--;
      }
      if (pb > pc) break;
      swap(a, pb, pc);
      pb++;
      pc--;
    }
    const end = base + n;
    let r = Math.min(pa - base, pb - pa);
    for (let k = 0; k < r; k++) swap(a, base + k, pb - r + k);
    r = Math.min(pd - pc, end - pd - 1);
    for (let k = 0; k < r; k++) swap(a, pb + k, end - r + k);
    r = pb - pa;
    if (r > 1) {
      const first = base;
      const last = base + r - 1;
      if (!((lr < first && rr < first) || (lr > last && rr > last))) partialSort(a, base, r, cmp, lr, rr);
    }
    r = pd - pc;
    if (r <= 1) return;
    base = end - r;
    n = r;
    const first = base;
    const last = base + r - 1;
    if ((lr < first && rr < first) || (lr > last && rr > last)) return;
  }
}

// ---------------------------------------------------------------------------------------------
// Table

/**
 * Key positions of GEORADIUS / GEORADIUSBYMEMBER as Redis's key specs give them: the source key,
 * then the key after the first STORE and the first STOREDIST keyword searched from `startfrom`
 * (a keyword in the last argument has no key after it and is not matched).
 */
function storeKeys(startfrom: number): (argv: string[]) => number[] {
  return (argv) => {
    const keys = [1];
    for (const kw of ['store', 'storedist']) {
      for (let i = startfrom; i < argv.length - 1; i++) {
        if (argv[i]!.toLowerCase() === kw) {
          keys.push(i + 1);
          break;
        }
      }
    }
    return keys;
  };
}

export const geoCommands: CommandDef[] = [
  { name: 'geoadd', handler: geoaddCommand },
  { name: 'geopos', handler: geoposCommand },
  { name: 'geodist', handler: geodistCommand },
  { name: 'geohash', handler: geohashCommand },
  { name: 'geosearch', handler: (c, argv) => georadiusGeneric(c, argv, 1, GEOSEARCH) },
  { name: 'geosearchstore', handler: (c, argv) => georadiusGeneric(c, argv, 2, GEOSEARCH | GEOSEARCHSTORE) },
  { name: 'georadius', handler: (c, argv) => georadiusGeneric(c, argv, 1, RADIUS_COORDS), getKeys: storeKeys(6) },
  { name: 'georadius_ro', handler: (c, argv) => georadiusGeneric(c, argv, 1, RADIUS_COORDS | RADIUS_NOSTORE) },
  { name: 'georadiusbymember', handler: (c, argv) => georadiusGeneric(c, argv, 1, RADIUS_MEMBER), getKeys: storeKeys(5) },
  {
    name: 'georadiusbymember_ro',
    handler: (c, argv) => georadiusGeneric(c, argv, 1, RADIUS_MEMBER | RADIUS_NOSTORE),
  },
];
