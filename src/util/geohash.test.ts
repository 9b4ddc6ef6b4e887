import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cellScoreRange,
  encodeWGS84,
  estimateStepsByRadius,
  formatFixed,
  formatHuman17,
  scoreText,
  scoreToCell,
  scoreToLonLat,
  searchAreas,
  standardGeohash,
} from './geohash.js';
import { pqsort } from '../commands/geo.js';

// Values below were read from redis-server 7.0.15 (GEOADD + ZSCORE / GEOPOS / GEOHASH).

test('encoding a point gives Redis scores, also past 2^53 on the maximum longitude', () => {
  assert.equal(scoreText(encodeWGS84(13.361389, 38.115556, 26)!), '3479099956230698');
  assert.equal(scoreText(encodeWGS84(15.087269, 37.502669, 26)!), '3479447370796909');
  assert.equal(scoreText(encodeWGS84(180, 0, 26)!), '10133099161583616');
  assert.equal(scoreText(encodeWGS84(180, 85.05112878, 26)!), '13510798882111488');
  assert.equal(encodeWGS84(180.0001, 0, 26), null);
});

test('decoding a score gives the centre of its cell, as GEOPOS prints it', () => {
  const [lon, lat] = scoreToLonLat(3479099956230698);
  assert.equal(formatHuman17(lon), '13.36138933897018433');
  assert.equal(formatHuman17(lat), '38.11555639549629859');
  // Scores GEOADD never writes decode as the C cast (uint64_t)score does on x86-64.
  assert.deepEqual(scoreToLonLat(-1).map(formatHuman17), ['180', '85.0511287799999991']);
  assert.deepEqual(scoreToLonLat(1e30).map(formatHuman17), ['-179.99999731779098511', '-85.05112751263942528']);
  assert.deepEqual(scoreToCell(Infinity), scoreToCell(0));
  assert.deepEqual(scoreToCell(-Infinity), scoreToCell(-1e30));
});

test('GEOHASH strings', () => {
  assert.equal(standardGeohash(3479099956230698), 'sqc8b49rny0');
  assert.equal(standardGeohash(3479447370796909), 'sqdtr74hyu0');
  assert.equal(standardGeohash(-1), 'bp05b5048p0');
  assert.equal(standardGeohash(4503599627370495), 'zzpgzgpfxz0');
});

test('search cells: step estimate, score ranges and dropped neighbours', () => {
  assert.equal(estimateStepsByRadius(0, 0), 26);
  assert.equal(estimateStepsByRadius(200000, 0), 6);
  assert.equal(estimateStepsByRadius(200000, 70), 5);
  assert.equal(estimateStepsByRadius(200000, 85), 4);
  assert.equal(estimateStepsByRadius(1e9, 0), 1);
  const cell = encodeWGS84(15, 37, 6)!;
  const [min, max] = cellScoreRange(cell);
  assert.equal(max - min, 2 ** 40);
  const areas = searchAreas({ box: false, lon: 15, lat: 37, radius: 200, width: 0, height: 0, conversion: 1000 });
  assert.equal(areas.length, 9);
  assert.deepEqual(areas[0], encodeWGS84(15, 37, areas[0]!.step));
});

test('formatFixed is printf %.Nf: exact value, ties to even, huge values in full', () => {
  assert.equal(formatFixed(0.03125, 4), '0.0312');
  assert.equal(formatFixed(0.09375, 4), '0.0938');
  assert.equal(formatFixed(2.5, 0), '2');
  assert.equal(formatFixed(166274.15156960033, 4), '166274.1516');
  assert.equal(formatFixed(-0, 6), '-0.000000');
  assert.equal(formatFixed(-1e-9, 6), '-0.000000');
  assert.equal(formatFixed(181, 6), '181.000000');
  assert.equal(formatFixed(1e22, 1), '10000000000000000000000.0');
  assert.equal(formatFixed(Infinity, 6), 'inf');
  assert.equal(formatHuman17(-0), '0');
  assert.equal(formatHuman17(-1e-20), '0');
  assert.equal(formatHuman17(0.5), '0.5');
});

test('pqsort puts exactly the first k of a full sort in front', () => {
  let seed = 7;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const cmp = (a: number, b: number): number => (a > b ? 1 : a === b ? 0 : -1);
  for (let round = 0; round < 200; round++) {
    const n = 1 + Math.floor(rnd() * 120);
    const arr = Array.from({ length: n }, () => Math.floor(rnd() * 20));
    const k = 1 + Math.floor(rnd() * n);
    const sorted = [...arr].sort((a, b) => a - b);
    const part = [...arr];
    pqsort(part, cmp, 0, k - 1);
    assert.deepEqual(part.slice(0, k), sorted.slice(0, k));
    assert.deepEqual([...part].sort((a, b) => a - b), sorted);
  }
});
