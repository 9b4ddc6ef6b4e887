/**
 * Value serialisation in the encodings Redis 7.0 writes (rdb.md §5): the type byte plus the
 * value payload, for RDB files, the snapshot stream to replicas and DUMP payloads.
 *
 *   string → 0 (INT/LZF/raw string)        list → 18 QUICKLIST_2 with listpack nodes
 *   set    → 11 INTSET | 2 SET             hash → 16 HASH_LISTPACK | 4 HASH
 *   zset   → 17 ZSET_LISTPACK | 5 ZSET_2   stream → 19 STREAM_LISTPACKS_2
 *
 * Which compact form is used follows the value's own sticky `encoding`, as OBJECT ENCODING
 * reports it, so a Redis that loads the file ends with the same encodings.
 */
import type { Config } from '../../config/config.js';
import type { Value } from '../../types/value.js';
import type { ListValue } from '../../types/list.js';
import type { SetValue } from '../../types/set.js';
import type { HashValue } from '../../types/hash.js';
import type { ZSetValue } from '../../types/zset.js';
import type { StreamValue } from '../../types/stream.js';
import { formatG17 } from '../../util/numbers.js';
import { RdbOut } from './out.js';
import { ListpackBuilder, canonicalInt, intsetEncode } from './listpack.js';
import { writeStream } from './stream-codec.js';
import * as F from './format.js';

/** Per-node limits of list-max-listpack-size (quicklist.c optimization_level). */
const NODE_SIZE_LIMITS = [4096, 8192, 16384, 32768, 65536];
/** quicklist.c SIZE_SAFETY_LIMIT: a count-limited node still stays under 8 KB. */
const SIZE_SAFETY_LIMIT = 8192;
/** quicklist.c SIZE_ESTIMATE_OVERHEAD. */
const SIZE_ESTIMATE_OVERHEAD = 8;
/** Elements at least this long get a PLAIN node (quicklist-packed-threshold, 1 GB default). */
const PACKED_THRESHOLD = 1 << 30;

/** "REDIS0010" and the AUX fields in Redis 7.0's order (rdb.md §8). */
export function writeRdbHeader(out: RdbOut, extraAux: readonly [string, string][], aofBase: boolean): void {
  out.rawString(`REDIS${String(F.RDB_VERSION).padStart(4, '0')}`);
  const aux = (k: string, v: string): void => {
    out.u8(F.RDB_OPCODE_AUX);
    out.string(k);
    out.string(v);
  };
  aux('redis-ver', F.REDIS_VER_AUX);
  aux('redis-bits', '64');
  aux('ctime', String(Math.floor(Date.now() / 1000)));
  aux('used-mem', String(process.memoryUsage().heapUsed));
  for (const [k, v] of extraAux) aux(k, v);
  aux('aof-base', aofBase ? '1' : '0');
}

/** Writes `<type> <value>` for one value (DUMP payloads). */
export function writeTypeAndValue(out: RdbOut, v: Value, cfg: Config): void {
  if (typeof v === 'string') {
    out.u8(F.RDB_TYPE_STRING);
    out.string(v);
    return;
  }
  const typePos = out.pos;
  out.u8(0);
  out.setByte(typePos, writeValueBody(out, v, cfg));
}

/** Writes one key record: [EXPIRETIME_MS] <type> <key> <value>. */
export function writeKeyRecord(out: RdbOut, key: string, v: Value, expireMs: number | undefined, cfg: Config): void {
  if (expireMs !== undefined) {
    out.u8(F.RDB_OPCODE_EXPIRETIME_MS);
    out.ms(expireMs);
  }
  if (typeof v === 'string') {
    out.u8(F.RDB_TYPE_STRING);
    out.string(key);
    out.string(v);
    return;
  }
  // The type byte depends on the value; write it first, then the key, then the payload.
  const typePos = out.pos;
  out.u8(0);
  out.string(key);
  out.setByte(typePos, writeValueBody(out, v, cfg));
}

/** Writes the payload only; returns the type byte that describes it. */
function writeValueBody(out: RdbOut, v: Exclude<Value, string>, cfg: Config): number {
  switch (v.type) {
    case 'list':
      writeList(out, v, cfg);
      return F.RDB_TYPE_LIST_QUICKLIST_2;
    case 'set':
      return writeSetBody(out, v);
    case 'hash':
      return writeHashBody(out, v);
    case 'zset':
      return writeZsetBody(out, v);
    case 'stream':
      writeStream(out, v as StreamValue);
      return F.RDB_TYPE_STREAM_LISTPACKS_2;
  }
}

// ---------------------------------------------------------------------------------------------
// list: QUICKLIST_2 (node count, then per node: container, listpack or plain element)

const lpScratch = new ListpackBuilder();

function writeList(out: RdbOut, l: ListValue, cfg: Config): void {
  const fill = cfg.int('list-max-listpack-size');
  const sizeLimit = fill < 0 ? NODE_SIZE_LIMITS[Math.min(-fill, 5) - 1]! : SIZE_SAFETY_LIMIT;
  const countLimit = fill > 0 ? fill : Infinity;
  // Node count comes first, so nodes are built before anything is written. The common small
  // list is one listpack node: it is written straight from the scratch builder (below).
  const nodes: { plain: boolean; data: Buffer | string }[] = [];
  const lp = lpScratch;
  lp.reset();
  const flush = (): void => {
    if (lp.entries > 0) nodes.push({ plain: false, data: Buffer.from(lp.finish()) });
    lp.reset();
  };
  const n = l.length;
  for (let i = 0; i < n; i++) {
    const item = l.get(i);
    if (item.length >= PACKED_THRESHOLD) {
      flush();
      nodes.push({ plain: true, data: item });
      continue;
    }
    if (lp.entries > 0 && (lp.entries + 1 > countLimit || lp.bytes + item.length + SIZE_ESTIMATE_OVERHEAD > sizeLimit)) flush();
    lp.append(item);
  }
  if (nodes.length === 0 && lp.entries > 0) {
    out.len(1);
    out.len(F.QUICKLIST_NODE_PACKED);
    out.blob(lp.finish());
    return;
  }
  flush();
  out.len(nodes.length);
  for (const n of nodes) {
    if (n.plain) {
      out.len(F.QUICKLIST_NODE_PLAIN);
      out.string(n.data as string);
    } else {
      out.len(F.QUICKLIST_NODE_PACKED);
      out.blob(n.data as Buffer);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// set: INTSET blob or plain member list

function writeSetBody(out: RdbOut, s: SetValue): number {
  if (s.encoding === 'intset') {
    const ints: (number | bigint)[] = [];
    for (const m of s.members()) {
      const v = canonicalInt(m);
      if (v === null) return writeSetPlain(out, s);
      ints.push(v);
    }
    out.blob(intsetEncode(ints));
    return F.RDB_TYPE_SET_INTSET;
  }
  return writeSetPlain(out, s);
}

function writeSetPlain(out: RdbOut, s: SetValue): number {
  out.len(s.size);
  for (const m of s.members()) out.string(m);
  return F.RDB_TYPE_SET;
}

// ---------------------------------------------------------------------------------------------
// hash: listpack of field, value, … or plain pairs

function writeHashBody(out: RdbOut, h: HashValue): number {
  if (h.encoding === 'listpack') {
    const lp = lpScratch;
    lp.reset();
    h.forEach((f, v) => {
      lp.append(f);
      lp.append(v);
    });
    out.blob(lp.finish());
    return F.RDB_TYPE_HASH_LISTPACK;
  }
  out.len(h.size);
  for (const [f, v] of h.entries()) {
    out.string(f);
    out.string(v);
  }
  return F.RDB_TYPE_HASH;
}

// ---------------------------------------------------------------------------------------------
// zset: listpack of member, score, … ascending, or ZSET_2 highest score first

function writeZsetBody(out: RdbOut, z: ZSetValue): number {
  if (z.encoding === 'listpack') {
    const lp = lpScratch;
    lp.reset();
    z.forEach((m, score) => {
      lp.append(m);
      // zzlInsertAt stores the score as d2string text (%.17g), itself int-encoded when integral.
      lp.append(formatG17(score));
    });
    out.blob(lp.finish());
    return F.RDB_TYPE_ZSET_LISTPACK;
  }
  const all: [string, number][] = [];
  for (const e of z.entries()) all.push(e);
  out.len(all.length);
  for (let i = all.length - 1; i >= 0; i--) {
    out.string(all[i]![0]);
    out.double(all[i]![1]);
  }
  return F.RDB_TYPE_ZSET_2;
}
