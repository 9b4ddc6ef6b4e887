import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Config } from '../config/config.js';
import { Keyspace } from '../keyspace/keyspace.js';
import type { Value } from '../types/value.js';
import { ListValue } from '../types/list.js';
import { SetValue } from '../types/set.js';
import { ZSetValue } from '../types/zset.js';
import { HashValue } from '../types/hash.js';
import { StreamValue, makeId, makeIdBig } from '../types/stream.js';
import { formatG17 } from '../util/numbers.js';
import { datasetDigest, keyValueDigest } from './digest.js';

/**
 * Reference digests captured from redis-server 7.0.15 (DEBUG DIGEST-VALUE / DEBUG DIGEST) for
 * exactly this dataset, built there with:
 *   SET s1 hello / SET s2 12345 / SET s3 "" / RPUSH l1 a b c 1 2 -3
 *   SADD set1 1 2 3 -100 99999999999 / SADD set2 a b c d
 *   ZADD z1 1 a 1.5 b 0.1 c -0 d 1234567890123456.25 e inf f -inf g 1e-300 h 3 "1"
 *   HSET h1 f1 v1 f2 2 f3 "" / XADD st 1-1 a 1 b 2 / XADD st 1-2 c 3
 *   XADD st 18446744073709551615-18446744073709551615 z 9
 *   SET ttl1 v EX 1000 / HSET ttl2 a b + EXPIRE ttl2 1000        (then SELECT 5, SET other x)
 */
const REDIS = {
  s1: '36b23a1456b2dce2c3ed252c456761301dba8060',
  s2: 'e1cf90774e995ae03de66e8109dc5cb9d9c2dc83',
  s3: '8b3447c33a834b810e3e181b6fd6a2ee1020921c',
  l1: '0f648651ce8d7cff8e8a425af416389af640b897',
  set1: '5ab2851a90e6bec180666a91271769c74f26f40d',
  set2: '650a1c22b723632208fe56b7ffcbd2996f3ef206',
  z1: '29420b0d2dee257a7b0bbde0eec0b9de65d7d30c',
  h1: '54ba343b2fc249ad121091e313cbdcc8da98b680',
  st: '07e6c08aabe0040aa34a235afa8e5bc27868332a',
  ttl1: '311b17018163335616e089f6b951c82c477335ac',
  ttl2: '01ce97e79e107255ae83a560e4c2070114b00ba6',
  /** ZADD zz -0 d with zset-max-listpack-entries 0 (skiplist keeps -0). */
  negZero: 'f965c54dced27d0ff92641b53d5d82f422ec1ea5',
  db0: 'e6d3000aa9cebe64147132d2a2056ce6093386c7',
  db0and5: 'dc26046f2f5be27425521628a0be751ad3d28e95',
};

function build(): { ks: Keyspace; cfg: Config } {
  const cfg = new Config();
  const ks = new Keyspace(16, { now: () => Date.now(), mayExpire: () => true, onExpired: () => {} });
  const db = ks.dbs[0]!;
  const put = (k: string, v: Value, ttl = false): void => {
    db.dict.set(k, v);
    if (ttl) db.expires.set(k, Date.now() + 1_000_000);
  };
  put('s1', 'hello');
  put('s2', '12345');
  put('s3', '');
  put('l1', ListValue.from(['a', 'b', 'c', '1', '2', '-3']));
  put('set1', SetValue.from(['1', '2', '3', '-100', '99999999999'], cfg));
  put('set2', SetValue.from(['a', 'b', 'c', 'd'], cfg));
  put(
    'z1',
    ZSetValue.from(
      [
        ['a', 1],
        ['b', 1.5],
        ['c', 0.1],
        // ZADD -0 into a listpack zset stores 0 in Redis (d2string's integer path).
        ['d', 0],
        ['e', 1234567890123456.25],
        ['f', Infinity],
        ['g', -Infinity],
        ['h', 1e-300],
        ['1', 3],
      ],
      cfg,
    ),
  );
  put(
    'h1',
    HashValue.from(
      [
        ['f1', 'v1'],
        ['f2', '2'],
        ['f3', ''],
      ],
      cfg,
    ),
  );
  const st = new StreamValue();
  st.appendLoaded(makeId(1, 1), ['a', '1', 'b', '2']);
  st.appendLoaded(makeId(1, 2), ['c', '3']);
  st.appendLoaded(makeIdBig(18446744073709551615n, 18446744073709551615n), ['z', '9']);
  put('st', st);
  put('ttl1', 'v', true);
  put('ttl2', HashValue.from([['a', 'b']], cfg), true);
  return { ks, cfg };
}

test('DEBUG DIGEST-VALUE matches redis-server 7.0 for every type, TTL and missing keys', () => {
  const { ks } = build();
  const db = ks.dbs[0]!;
  for (const key of ['s1', 's2', 's3', 'l1', 'set1', 'set2', 'z1', 'h1', 'st', 'ttl1', 'ttl2'] as const) {
    assert.equal(keyValueDigest(db, key).toString('hex'), REDIS[key], key);
  }
  assert.equal(keyValueDigest(db, 'missing').toString('hex'), '0'.repeat(40));
});

test('DEBUG DIGEST matches redis-server 7.0, skips empty databases, mixes the db number', () => {
  const { ks } = build();
  assert.equal(datasetDigest(ks.dbs).toString('hex'), REDIS.db0);
  ks.dbs[5]!.dict.set('other', 'x');
  assert.equal(datasetDigest(ks.dbs).toString('hex'), REDIS.db0and5);
  const empty = new Keyspace(16, { now: () => 0, mayExpire: () => true, onExpired: () => {} });
  assert.equal(datasetDigest(empty.dbs).toString('hex'), '0'.repeat(40));
});

test('a -0 score is hashed as "-0" (skiplist zsets keep it in Redis)', () => {
  const ks = new Keyspace(1, { now: () => 0, mayExpire: () => true, onExpired: () => {} });
  const z = new ZSetValue('skiplist');
  z.insert('d', -0);
  ks.dbs[0]!.dict.set('zz', z);
  assert.equal(keyValueDigest(ks.dbs[0]!, 'zz').toString('hex'), REDIS.negZero);
});

test('digest ignores set and hash iteration order', () => {
  const cfg = new Config();
  const ks = new Keyspace(1, { now: () => 0, mayExpire: () => true, onExpired: () => {} });
  const db = ks.dbs[0]!;
  db.dict.set('a', SetValue.from(['x', 'y', 'z'], cfg));
  db.dict.set('b', SetValue.from(['z', 'x', 'y'], cfg));
  assert.deepEqual(keyValueDigest(db, 'a'), keyValueDigest(db, 'b'));
});

test('formatG17 is C printf("%.17g"), including exact ties (round-half-even)', () => {
  const cases: [number, string][] = [
    [0.1, '0.10000000000000001'],
    [1.5, '1.5'],
    [1, '1'],
    [-0, '-0'],
    [0, '0'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [1e-300, '1e-300'],
    [1234567890123456.25, '1234567890123456.2'],
    [1234567890123456.75, '1234567890123456.8'],
    [2 ** 60, '1.152921504606847e+18'],
    [1e21, '1e+21'],
    [123456789012345680000, '1.2345678901234568e+20'],
    [5e-324, '4.9406564584124654e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [0.0001, '0.0001'],
    [0.00001, '1.0000000000000001e-05'],
    [1e16, '10000000000000000'],
    [1e17, '1e+17'],
    [-2.5, '-2.5'],
    [1 / 3, '0.33333333333333331'],
  ];
  for (const [v, s] of cases) assert.equal(formatG17(v), s, String(v));
});
