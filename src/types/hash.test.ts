import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashValue } from './hash.js';
import { Config } from '../config/config.js';
import fc from 'fast-check';

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

test('property: a hash behaves like an insertion-ordered map, across long elements and conversion', () => {
  // Binary-safe fields and values of every length class: empty, short, >= 13 bytes (sliced
  // strings), >= 255 bytes (the 5-byte length prefix), and bytes 0 and 255.
  const bytes = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 }).map((a) => String.fromCharCode(...a));
  const elem = fc.oneof(fc.constantFrom('', 'a', 'b', 'f1', '\u00ff', '\u0000x'), bytes);
  const op = fc.oneof(
    fc.tuple(fc.constant('set' as const), elem, elem),
    fc.tuple(fc.constant('del' as const), elem, fc.constant('')),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 1, max: 40 }), (ops, maxEntries) => {
      const cfg = new Config();
      cfg.apply('hash-max-listpack-entries', [String(maxEntries)]);
      cfg.apply('hash-max-listpack-value', ['400']);
      const h = new HashValue();
      const model = new Map<string, string>();
      for (const [kind, f, v] of ops) {
        if (kind === 'set') assert.equal(h.set(f, v, cfg), !model.has(f));
        else assert.equal(h.delete(f), model.has(f));
        if (kind === 'set') model.set(f, v);
        else model.delete(f);
        assert.equal(h.size, model.size);
      }
      for (const [f, v] of model) {
        assert.equal(h.get(f), v);
        assert.equal(h.valueLength(f), v.length);
      }
      assert.equal(h.get('\u0001absent'), undefined);
      assert.equal(h.valueLength('\u0001absent'), -1);
      const got = [...h.entries()];
      if (h.encoding === 'listpack') assert.deepEqual(got, [...model.entries()]);
      else assert.deepEqual(new Map(got), model);
      for (let i = 0; i < h.size; i++) assert.ok(model.get(h.entryAt(i)[0]) === h.entryAt(i)[1]);
      assert.deepEqual([...h.dup().entries()], got);
    }),
    { numRuns: 300 },
  );
});

test('from: one-pass packing, and the general path for repeats and big hashes', () => {
  const cfg = new Config();
  const many = Array.from({ length: 40 }, (_, i): [string, string] => [`f${i}`, `v${i}`]);
  const h = HashValue.from(many, cfg);
  assert.equal(h.encoding, 'listpack');
  assert.deepEqual([...h.entries()], many);
  const dup = HashValue.from([...many, ['f3', 'last']], cfg);
  assert.equal(dup.size, 40);
  assert.equal(dup.get('f3'), 'last');
  const small = HashValue.from([['a', '1'], ['b', '2'], ['a', '3']], cfg);
  assert.deepEqual([...small.entries()], [['a', '3'], ['b', '2']]);
  cfg.apply('hash-max-listpack-entries', ['10']);
  assert.equal(HashValue.from(many, cfg).encoding, 'hashtable');
});

test('forEach visits the same entries as entries(), in both encodings', () => {
  const cfg = new Config();
  cfg.apply('hash-max-listpack-entries', ['4']);
  const h = new HashValue();
  for (let i = 0; i < 6; i++) {
    h.set(`f${i}`, `v${i}`, cfg);
    const seen: [string, string][] = [];
    h.forEach((f, v) => seen.push([f, v]));
    assert.deepEqual(seen, [...h.entries()]);
  }
  assert.equal(h.encoding, 'hashtable');
});
