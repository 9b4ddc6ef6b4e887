import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashValue } from './hash.js';
import { Config } from '../config/config.js';

test('listpack keeps insertion order; converts by entries and by value length; sticky', () => {
  const cfg = new Config();
  cfg.apply('hash-max-listpack-entries', ['3']);
  cfg.apply('hash-max-listpack-value', ['5']);
  const h = new HashValue();
  h.set('b', '1', cfg);
  h.set('a', '2', cfg);
  h.set('b', '3', cfg);
  assert.deepEqual([...h.entries()], [['b', '3'], ['a', '2']]);
  h.delete('b');
  h.set('b', '4', cfg);
  assert.deepEqual([...h.keys()], ['a', 'b']);
  h.set('c', '5', cfg);
  assert.equal(h.encoding, 'listpack');
  h.set('d', '6', cfg);
  assert.equal(h.encoding, 'hashtable');
  h.delete('d');
  h.delete('c');
  assert.equal(h.encoding, 'hashtable');
  assert.equal(h.get('a'), '2');
  const g = HashValue.from([['f', 'toolong']], cfg);
  assert.equal(g.encoding, 'hashtable');
  const k = HashValue.from([['f', 'v']], cfg);
  k.tryConversion(['hsetnx', 'k', 'f', 'longvalue'], 2, 3, cfg);
  assert.equal(k.encoding, 'hashtable');
});

test('hashtable delete keeps every other field reachable', () => {
  const cfg = new Config();
  cfg.apply('hash-max-listpack-entries', ['0']);
  const h = new HashValue();
  for (let i = 0; i < 100; i++) h.set('f' + i, 'v' + i, cfg);
  for (let i = 0; i < 100; i += 3) assert.ok(h.delete('f' + i));
  for (let i = 0; i < 100; i++) assert.equal(h.get('f' + i), i % 3 === 0 ? undefined : 'v' + i);
  assert.equal(h.size, 66);
  assert.equal(new Set([...h.keys()]).size, 66);
});
