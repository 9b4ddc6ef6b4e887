/**
 * DEBUG DIGEST / DEBUG DIGEST-VALUE, bit-exact with Redis 7.0 (debug.c; the algorithm is
 * written out in reference/commands.md §8).
 *
 * Two primitives on a 20-byte accumulator `d`:
 *   xor(d, bytes)  d ^= SHA1(bytes)                    order-independent (sets, hashes, keys)
 *   mix(d, bytes)  d = SHA1(d ^ SHA1(bytes))           order-dependent (lists, streams)
 *
 * The digest depends only on logical content (never on encodings), and includes logically
 * expired keys that were not deleted yet, as Redis iterates its dictionaries directly. Values
 * are read only through the type contract (src/types/README.md).
 */
import crypto from 'node:crypto';
import type { Value } from '../types/value.js';
import type { Db } from '../keyspace/db.js';
import { formatG17 } from '../util/numbers.js';
import { idMsNumber, idSeqNumber, idMs, idSeq, type StreamId } from '../types/stream.js';

const DIGEST_LEN = 20;

/** Redis's object type codes (OBJ_STRING ... OBJ_STREAM) as hashed by the digest. */
const TYPE_CODE = { string: 0, list: 1, set: 2, zset: 3, hash: 4, stream: 6 } as const;

const EXPIRE_MARK = Buffer.from('!!expire!!', 'latin1');

const oneShot = (crypto as { hash?: (alg: string, data: Buffer | string, enc: 'buffer') => Buffer }).hash;

function sha1(data: Buffer): Buffer {
  if (oneShot !== undefined) return oneShot('sha1', data, 'buffer');
  return crypto.createHash('sha1').update(data).digest();
}

function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** d ^= SHA1(data) */
export function xorDigest(d: Buffer, data: Buffer): void {
  const h = sha1(data);
  for (let i = 0; i < DIGEST_LEN; i++) d[i]! ^= h[i]!;
}

/** d = SHA1(d ^ SHA1(data)) */
export function mixDigest(d: Buffer, data: Buffer): void {
  const h = sha1(data);
  for (let i = 0; i < DIGEST_LEN; i++) h[i]! ^= d[i]!;
  sha1(h).copy(d);
}

function be32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** "<ms>.<seq>" as Redis's `%U.%U`. */
function streamIdText(id: StreamId): string {
  const ms = idMsNumber(id);
  const seq = idSeqNumber(id);
  return (ms !== null ? String(ms) : idMs(id).toString()) + '.' + (seq !== null ? String(seq) : idSeq(id).toString());
}

/**
 * Accumulates a value (and whether its key has a TTL) into `o` (Redis's xorObjectDigest, which
 * despite its name starts by mixing the type code).
 */
export function digestValue(o: Buffer, value: Value, hasExpire: boolean): void {
  if (typeof value === 'string') {
    mixDigest(o, be32(TYPE_CODE.string));
    mixDigest(o, bytes(value));
  } else {
    mixDigest(o, be32(TYPE_CODE[value.type]));
    switch (value.type) {
      case 'list':
        for (const item of value.items()) mixDigest(o, bytes(item));
        break;
      case 'set':
        for (const member of value.members()) xorDigest(o, bytes(member));
        break;
      case 'zset': {
        const e = Buffer.alloc(DIGEST_LEN);
        for (const [member, score] of value.entries()) {
          e.fill(0);
          mixDigest(e, bytes(member));
          mixDigest(e, bytes(formatG17(score)));
          xorDigest(o, e);
        }
        break;
      }
      case 'hash': {
        const e = Buffer.alloc(DIGEST_LEN);
        for (const [field, val] of value.entries()) {
          e.fill(0);
          mixDigest(e, bytes(field));
          mixDigest(e, bytes(val));
          xorDigest(o, e);
        }
        break;
      }
      case 'stream':
        for (const [id, fields] of value.entries()) {
          mixDigest(o, bytes(streamIdText(id)));
          for (let i = 0; i < fields.length; i++) mixDigest(o, bytes(fields[i]!));
        }
        break;
    }
  }
  if (hasExpire) xorDigest(o, EXPIRE_MARK);
}

/** DEBUG DIGEST-VALUE of one key: zeros when missing; logically expired keys still count. */
export function keyValueDigest(db: Db, key: string): Buffer {
  const d = Buffer.alloc(DIGEST_LEN);
  const v = db.dict.get(key);
  if (v !== undefined) digestValue(d, v, db.expires.has(key));
  return d;
}

/** DEBUG DIGEST: the whole dataset (computeDatasetDigest). Empty databases are skipped. */
export function datasetDigest(dbs: readonly Db[]): Buffer {
  const final = Buffer.alloc(DIGEST_LEN);
  const k = Buffer.alloc(DIGEST_LEN);
  for (const db of dbs) {
    if (db.dict.size === 0) continue;
    mixDigest(final, be32(db.id));
    const expires = db.expires;
    for (const [key, value] of db.dict) {
      k.fill(0);
      mixDigest(k, bytes(key));
      digestValue(k, value, expires.size !== 0 && expires.has(key));
      xorDigest(final, k);
    }
  }
  return final;
}
