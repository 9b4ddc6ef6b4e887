/**
 * What the GEO commands propagate to replicas and the AOF, checked in-process (a Server that
 * never listens, a sink recording every fed command). Captured from redis-server 7.0.15's AOF:
 * GEOADD replaces its command vector with the ZADD it runs, so it propagates as
 * `zadd key [options] <score> <member> ...`; the searches that store propagate as sent.
 */
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { InProcess } from '../helpers/in-process.js';
import type { Client } from '../../src/net/client.js';

let h: InProcess;
let client: Client;

beforeEach(() => {
  h = new InProcess();
  client = h.client;
});

/** Runs a command; returns its raw reply. */
function run(...argv: string[]): string {
  return h.exec(client, argv);
}

/** Runs a command on the plain client and returns what it propagated. */
function propagated(...argv: string[]): string[][] {
  return h.propagated(...argv);
}

test('GEOADD propagates the ZADD it runs, with the options as sent', () => {
  assert.deepEqual(propagated('geoadd', 'g', 'ch', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania'), [
    ['zadd', 'g', 'ch', '3479099956230698', 'Palermo', '3479447370796909', 'Catania'],
  ]);
  // Nothing changed: nothing propagated.
  assert.deepEqual(propagated('geoadd', 'g', '13.361389', '38.115556', 'Palermo'), []);
  assert.deepEqual(propagated('GEOADD', 'g', 'XX', '13.361389', '38.2', 'Palermo'), [['zadd', 'g', 'XX', '3479101030759983', 'Palermo']]);
  assert.deepEqual(propagated('geoadd', 'g', 'nx', '180', '0', 'east'), [['zadd', 'g', 'nx', '10133099161583616', 'east']]);
  // Errors propagate nothing.
  assert.deepEqual(propagated('geoadd', 'g', '1', '1', 'ok', '200', '1', 'bad'), []);
  assert.equal(run('zscore', 'g', 'ok'), '$-1\r\n');
});

test('searches that store propagate as sent; the others not at all', () => {
  run('geoadd', 'g', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania');
  assert.deepEqual(propagated('georadius', 'g', '15', '37', '200', 'km'), []);
  assert.deepEqual(propagated('geosearch', 'g', 'fromlonlat', '15', '37', 'byradius', '200', 'km'), []);
  const store = ['georadius', 'g', '15', '37', '200', 'km', 'store', 'dst'];
  assert.deepEqual(propagated(...store), [store]);
  const storedist = ['georadiusbymember', 'g', 'Palermo', '200', 'km', 'storedist', 'd2'];
  assert.deepEqual(propagated(...storedist), [storedist]);
  const gss = ['geosearchstore', 'd3', 'g', 'frommember', 'Palermo', 'bybox', '400', '400', 'km', 'storedist'];
  assert.deepEqual(propagated(...gss), [gss]);
  // An empty result deletes the destination: propagated; with no destination there is no change.
  const empty = ['georadius', 'g', '50', '50', '1', 'km', 'store', 'dst'];
  assert.deepEqual(propagated(...empty), [empty]);
  assert.deepEqual(propagated(...empty), []);
  assert.deepEqual(propagated('georadius', 'nokey', '50', '50', '1', 'km', 'store', 'd2'), [
    ['georadius', 'nokey', '50', '50', '1', 'km', 'store', 'd2'],
  ]);
  assert.equal(run('exists', 'd2'), ':0\r\n');
});

test('GEOADD inside MULTI/EXEC is wrapped as its ZADD', () => {
  run('multi');
  run('geoadd', 'g', '1', '1', 'a');
  run('set', 'k', 'v');
  run('exec');
  assert.deepEqual(h.fed, [['MULTI'], ['zadd', 'g', '3377822707026402', 'a'], ['set', 'k', 'v'], ['EXEC']]);
});
