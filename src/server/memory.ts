/**
 * MEMORY USAGE and the quicklist figures of DEBUG OBJECT: what Redis 7.0 would account for a
 * value, computed from the value's logical content with Redis's own structure sizes and
 * jemalloc size classes (object.c objectComputeSize, on a 64-bit build).
 *
 * Mirra's real memory use is that of V8 objects, which cannot be attributed to one key cheaply
 * or precisely; reporting Redis's figure instead keeps MEMORY USAGE meaningful for what users
 * use it for (comparing keys, spotting big ones, capacity planning for a Redis deployment) and
 * keeps it stable across runs. For small encodings (int/embstr strings, listpacks, intsets) the
 * figure matches Redis byte for byte; for hashtable/skiplist/stream encodings it follows the
 * same formula but models allocation details (dict table size, skiplist node levels,
 * preallocated stream listpacks, radix tree nodes) by their expected values, a quicklist's
 * node layout is modelled as if the list had been built by appending, and a raw string's
 * buffer is assumed exact (Redis over-allocates strings grown by APPEND/SETRANGE).
 */
import type { Value } from '../types/value.js';
import type { ListValue } from '../types/list.js';
import type { HashValue } from '../types/hash.js';
import type { SetValue } from '../types/set.js';
import type { ZSetValue } from '../types/zset.js';
import type { StreamValue } from '../types/stream.js';
import { lpStringSize } from '../types/stream.js';
import { formatG17, parseInt64Big } from '../util/numbers.js';
import { isIntEncodable, naturalEncoding, type StringEncoding } from '../types/string-encoding.js';

/** OBJ_COMPUTE_SIZE_DEF_SAMPLES */
export const DEFAULT_SAMPLES = 5;

// Structure sizes of Redis 7.0 on x86-64.
const ROBJ = 16;
const DICT_ENTRY = 24;
const DICT = 56;
const QUICKLIST = 40;
const QUICKLIST_NODE = 40;
const ZSET = 16;
const ZSKIPLIST = 32;
const ZSKIPLIST_MAXLEVEL = 32;
const STREAM = 80;
const RAX_NODE = 4;
const STREAM_CG = 40;
const STREAM_CONSUMER = 24;
const STREAM_NACK = 24;
/** Empty listpack: 4-byte total length + 2-byte count + end marker. */
const LP_EMPTY = 7;
/** Redis preallocates a new stream node's listpack (STREAM_LISTPACK_MAX_PRE_ALLOCATE). */
const STREAM_LP_PREALLOC = 4096;

/** jemalloc's usable size for an allocation of n bytes (size classes with 16-byte quantum). */
export function mallocSize(n: number): number {
  if (n <= 8) return 8;
  if (n <= 128) return (n + 15) & ~15;
  const lg = Math.floor(Math.log2(n - 1));
  const spacing = 2 ** (lg - 2);
  return Math.ceil(n / spacing) * spacing;
}

/** Header bytes of an sds of `len` bytes created with sdsnewlen (type picked by length). */
function sdsHeader(len: number): number {
  if (len < 32) return 1;
  if (len < 256) return 3;
  if (len < 65536) return 5;
  if (len < 4294967296) return 9;
  return 17;
}

/** sdsZmallocSize of an sds holding `len` bytes. */
export function sdsAllocSize(len: number): number {
  return mallocSize(sdsHeader(len) + len + 1);
}

/** dictSlots after inserting `size` entries: a power of two >= size, at least 4. */
function dictSlots(size: number): number {
  let s = 4;
  while (s < size) s *= 2;
  return s;
}

/** Average jemalloc size of a skiplist node, levels distributed as zslRandomLevel (p = 1/4). */
const SKIPLIST_NODE_AVG = (() => {
  let avg = 0;
  let p = 0.75;
  for (let level = 1; level <= ZSKIPLIST_MAXLEVEL; level++) {
    avg += p * mallocSize(24 + 16 * level);
    p *= 0.25;
  }
  return avg;
})();

// ---------------------------------------------------------------------------------------------
// Quicklist layout

/** Default of quicklist's packed_threshold: elements this large get a plain node (1 GB). */
const DEFAULT_PACKED_THRESHOLD = 1 << 30;
const packedThresholds = new WeakMap<object, number>();

/** DEBUG QUICKLIST-PACKED-THRESHOLD's current value for a server. */
export function quicklistPackedThreshold(server: object): number {
  return packedThresholds.get(server) ?? DEFAULT_PACKED_THRESHOLD;
}

/** Sets it; 0 restores the default, as quicklistisSetPackedThreshold does. */
export function setQuicklistPackedThreshold(server: object, size: number): void {
  packedThresholds.set(server, size === 0 ? DEFAULT_PACKED_THRESHOLD : size);
}

// Node packing follows list-max-listpack-size as 7.0's _quicklistNodeAllowInsert does.

/** list-max-listpack-size negative values: byte limits per node. */
const OPTIMIZATION_LEVEL = [4096, 8192, 16384, 32768, 65536];
const SIZE_SAFETY_LIMIT = 8192;

export interface QuicklistLayout {
  /** Per node: listpack bytes (node->sz) — for plain nodes the element's length. */
  nodeBytes: number[];
  count: number;
}

function allowInsert(nodeBytes: number, nodeCount: number, fill: number, elementLen: number): boolean {
  let overhead = elementLen < 254 ? 1 : 5;
  overhead += elementLen < 64 ? 1 : elementLen < 16384 ? 2 : 5;
  const newSize = nodeBytes + elementLen + overhead;
  if (fill < 0) {
    const limit = OPTIMIZATION_LEVEL[-fill - 1];
    if (limit !== undefined && newSize <= limit) return true;
  }
  if (newSize > SIZE_SAFETY_LIMIT) return false;
  return fill >= 0 && nodeCount < fill;
}

/**
 * The nodes a quicklist built by appending `list`'s elements would have. Elements at least
 * `packedThreshold` bytes long get a plain node of their own (7.0 large-element nodes).
 */
export function quicklistLayout(list: ListValue, fill: number, packedThreshold: number): QuicklistLayout {
  const nodeBytes: number[] = [];
  let curBytes = -1; // -1: no packed node open at the tail
  let curCount = 0;
  let count = 0;
  for (const e of list.items()) {
    count++;
    if (e.length >= packedThreshold) {
      if (curBytes >= 0) nodeBytes.push(curBytes);
      nodeBytes.push(e.length);
      curBytes = -1;
      continue;
    }
    if (curBytes >= 0 && allowInsert(curBytes, curCount, fill, e.length)) {
      curBytes += lpStringSize(e);
      curCount++;
    } else {
      if (curBytes >= 0) nodeBytes.push(curBytes);
      curBytes = LP_EMPTY + lpStringSize(e);
      curCount = 1;
    }
  }
  if (curBytes >= 0) nodeBytes.push(curBytes);
  return { nodeBytes, count };
}

// ---------------------------------------------------------------------------------------------
// objectComputeSize

export interface SizeContext {
  /** Encoding of a string value (OBJECT ENCODING's answer for it). */
  stringEncoding?: StringEncoding;
  /** list-max-listpack-size */
  listFill: number;
  /** DEBUG QUICKLIST-PACKED-THRESHOLD */
  packedThreshold: number;
  /** stream-node-max-bytes (caps a new stream node's preallocation). */
  streamNodeMaxBytes?: number;
}

/** Bytes of the value object as Redis's objectComputeSize reports them. */
export function objectComputeSize(value: Value, samples: number, ctx: SizeContext): number {
  if (typeof value === 'string') return stringObjectSize(value, ctx.stringEncoding ?? naturalEncoding(value));
  switch (value.type) {
    case 'list':
      return listSize(value, samples, ctx);
    case 'hash':
      return hashSize(value, samples);
    case 'set':
      return setSize(value, samples);
    case 'zset':
      return zsetSize(value, samples);
    case 'stream':
      return streamSize(value, samples, ctx);
  }
}

/** MEMORY USAGE: the value plus the key's sds and its dict entry. */
export function keyMemoryUsage(key: string, value: Value, samples: number, ctx: SizeContext): number {
  return objectComputeSize(value, samples, ctx) + sdsAllocSize(key.length) + DICT_ENTRY;
}

function stringObjectSize(v: string, enc: StringEncoding): number {
  if (enc === 'int' && isIntEncodable(v)) return ROBJ;
  // embstr: object header, sdshdr8 and the bytes in one allocation.
  if (enc === 'embstr') return mallocSize(ROBJ + 3 + v.length + 1);
  return ROBJ + sdsAllocSize(v.length);
}

function listSize(list: ListValue, samples: number, ctx: SizeContext): number {
  const layout = quicklistLayout(list, ctx.listFill, ctx.packedThreshold);
  const nodes = layout.nodeBytes;
  if (nodes.length === 0) return ROBJ + QUICKLIST;
  let ele = 0;
  let n = 0;
  do {
    ele += QUICKLIST_NODE + mallocSize(nodes[n]!);
    n++;
  } while (n < nodes.length && n < samples);
  return ROBJ + QUICKLIST + Math.floor((ele / n) * nodes.length);
}

function hashSize(h: HashValue, samples: number): number {
  if (h.encoding === 'listpack') {
    let n = LP_EMPTY;
    for (const [f, v] of h.entries()) n += lpStringSize(f) + lpStringSize(v);
    return ROBJ + mallocSize(n);
  }
  const size = h.size;
  let asize = ROBJ + DICT + 8 * dictSlots(size);
  let ele = 0;
  let n = 0;
  for (const [f, v] of h.entries()) {
    if (n >= samples) break;
    ele += sdsAllocSize(f.length) + sdsAllocSize(v.length) + DICT_ENTRY;
    n++;
  }
  if (n > 0) asize += Math.floor((ele / n) * size);
  return asize;
}

function setSize(s: SetValue, samples: number): number {
  if (s.encoding === 'intset') {
    // intset: 8-byte header + members at the narrowest width that holds all of them.
    let width = 2;
    for (const m of s.members()) {
      const v = m.length <= 15 ? Number(m) : Number(parseInt64Big(m));
      if (v < -2147483648 || v > 2147483647) {
        width = 8;
        break;
      }
      if (v < -32768 || v > 32767) width = 4;
    }
    return ROBJ + mallocSize(8 + width * s.size);
  }
  const size = s.size;
  let asize = ROBJ + DICT + 8 * dictSlots(size);
  let ele = 0;
  let n = 0;
  for (const m of s.members()) {
    if (n >= samples) break;
    ele += DICT_ENTRY + sdsAllocSize(m.length);
    n++;
  }
  if (n > 0) asize += Math.floor((ele / n) * size);
  return asize;
}

function zsetSize(z: ZSetValue, samples: number): number {
  if (z.encoding === 'listpack') {
    let n = LP_EMPTY;
    z.forEach((m, score) => {
      n += lpStringSize(m) + lpStringSize(formatG17(score));
    });
    return ROBJ + mallocSize(n);
  }
  const size = z.size;
  let asize = ROBJ + ZSET + ZSKIPLIST + DICT + 8 * dictSlots(size) + mallocSize(24 + 16 * ZSKIPLIST_MAXLEVEL);
  let ele = 0;
  let n = 0;
  for (const [m] of z.entries()) {
    if (n >= samples) break;
    ele += sdsAllocSize(m.length) + DICT_ENTRY + SKIPLIST_NODE_AVG;
    n++;
  }
  if (n > 0) asize += Math.floor((ele / n) * size);
  return asize;
}

/**
 * Redis's streamRadixTreeMemoryUsage: IDs, nodes and a fixed per-node overhead. Mirra keeps no
 * radix tree; a tree of n 16-byte keys has about 2n nodes (a compressed path and a leaf per
 * key below the shared prefix), which is what is assumed.
 */
function radixTreeSize(elements: number): number {
  const nodes = elements === 0 ? 1 : elements === 1 ? 2 : 2 * elements + 1;
  return elements * 16 + nodes * (RAX_NODE + 8 * 30);
}

function streamSize(s: StreamValue, samples: number, ctx: SizeContext): number {
  const nodes = s.nodes;
  let asize = ROBJ + STREAM + radixTreeSize(nodes.length);
  // Full nodes are shrunk to fit; the tail node was created with a 4 KB preallocation.
  const maxBytes = ctx.streamNodeMaxBytes ?? 0;
  const prealloc = maxBytes > 0 && maxBytes < STREAM_LP_PREALLOC ? maxBytes : STREAM_LP_PREALLOC;
  const lpAlloc = (i: number): number => {
    const bytes = nodes[i]!.bytes;
    return mallocSize(i === nodes.length - 1 ? Math.max(bytes, prealloc) : bytes);
  };
  if (nodes.length > 0) {
    let lp = 0;
    let n = 0;
    while (n < samples && n < nodes.length) {
      lp += lpAlloc(n);
      n++;
    }
    if (nodes.length <= n) asize += lp;
    else asize += Math.floor(lp / n) * (nodes.length - 1) + lpAlloc(nodes.length - 1);
  }
  for (const g of s.sortedGroups()) {
    const pending = g.pel.size;
    asize += STREAM_CG + radixTreeSize(pending) + STREAM_NACK * pending;
    for (const consumer of g.sortedConsumers()) {
      asize += STREAM_CONSUMER + consumer.name.length + radixTreeSize(consumer.pel.size);
    }
  }
  return asize;
}
