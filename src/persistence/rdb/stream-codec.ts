/**
 * Streams in RDB (rdb.md §7): STREAM_LISTPACKS_2 (19) is written; 15, 19 and 21 are read.
 *
 * Each macro node becomes one listpack keyed by its 16-byte master id:
 *   master entry: <count> <deleted> <num-fields> <field…> <0>
 *   each entry:   <flags> <ms-delta> <seq-delta> [<num-fields> <f v…> | <v…> with SAMEFIELDS] <lp-count>
 * Deltas are 64-bit two's-complement differences from the master id (uint64 arithmetic wraps),
 * so they are computed with numbers when both ids are safe integers and with BigInt otherwise.
 * Mirra writes only live entries (deleted = 0), which loads identically.
 */
import type { StreamValue, StreamGroup } from '../../types/stream.js';
import { StreamValue as StreamClass, makeIdBig, makeId, idMs, idSeq, idMsNumber, idSeqNumber, U64_MAX, type StreamId } from '../../types/stream.js';
import { RdbError } from './errors.js';
import type { Cursor } from './cursor.js';
import type { RdbOut } from './out.js';
import { ListpackBuilder, lpDecodeValues } from './listpack.js';
import { RDB_TYPE_STREAM_LISTPACKS, RDB_TYPE_STREAM_LISTPACKS_3 } from './format.js';

const FLAG_DELETED = 1;
const FLAG_SAMEFIELDS = 2;
const TWO64 = 1n << 64n;
const INT64_LIMIT = 1n << 63n;

/** (a - b) as Redis computes it: uint64 difference reinterpreted as int64. */
function delta(a: StreamId, b: StreamId, ms: boolean): number | bigint {
  const an = ms ? idMsNumber(a) : idSeqNumber(a);
  const bn = ms ? idMsNumber(b) : idSeqNumber(b);
  if (an !== null && bn !== null) return an - bn;
  let d = ((ms ? idMs(a) : idSeq(a)) - (ms ? idMs(b) : idSeq(b)) + TWO64) % TWO64;
  if (d >= INT64_LIMIT) d -= TWO64;
  return d;
}

function addDelta(base: bigint | number, d: number | bigint | string): bigint | number {
  if (typeof base === 'number' && typeof d === 'number') {
    const r = base + d;
    if (r >= 0 && Number.isSafeInteger(r)) return r;
  }
  const dd = typeof d === 'string' ? BigInt(d) : BigInt(d);
  return (((BigInt(base) + dd) % TWO64) + TWO64) % TWO64;
}

function idFrom(ms: bigint | number, seq: bigint | number): StreamId {
  if (typeof ms === 'number' && typeof seq === 'number') return makeId(ms, seq);
  return makeIdBig(BigInt(ms), BigInt(seq));
}

function lenOfIdPart(out: RdbOut, id: StreamId, ms: boolean): void {
  const n = ms ? idMsNumber(id) : idSeqNumber(id);
  out.len(n !== null ? n : ms ? idMs(id) : idSeq(id));
}

const lp = new ListpackBuilder();

export function writeStream(out: RdbOut, s: StreamValue): void {
  let nodes = 0;
  for (const n of s.nodes) if (n.ids.length > 0) nodes++;
  out.len(nodes);
  for (const node of s.nodes) {
    const count = node.ids.length;
    if (count === 0) continue;
    const mf = node.masterFields;
    lp.reset();
    lp.appendInt(count);
    lp.appendInt(0);
    lp.appendInt(mf.length);
    for (const f of mf) lp.append(f);
    lp.appendInt(0);
    for (let i = 0; i < count; i++) {
      const id = node.ids[i]!;
      const fields = node.fields[i]!;
      const nf = fields.length >> 1;
      let same = nf === mf.length;
      for (let j = 0; same && j < nf; j++) if (fields[j * 2] !== mf[j]) same = false;
      lp.appendInt(same ? FLAG_SAMEFIELDS : 0);
      lp.appendInt(delta(id, node.masterId, true));
      lp.appendInt(delta(id, node.masterId, false));
      if (same) {
        for (let j = 0; j < nf; j++) lp.append(fields[j * 2 + 1]!);
        lp.appendInt(nf + 3);
      } else {
        lp.appendInt(nf);
        for (let j = 0; j < fields.length; j++) lp.append(fields[j]!);
        lp.appendInt(2 * nf + 4);
      }
    }
    out.string(node.masterId);
    out.blob(lp.finish());
  }
  out.len(s.length);
  lenOfIdPart(out, s.lastId, true);
  lenOfIdPart(out, s.lastId, false);
  const first = s.firstId;
  lenOfIdPart(out, first, true);
  lenOfIdPart(out, first, false);
  lenOfIdPart(out, s.maxDeletedId, true);
  lenOfIdPart(out, s.maxDeletedId, false);
  out.len(s.entriesAdded);
  const groups = s.sortedGroups();
  out.len(groups.length);
  for (const g of groups) writeGroup(out, g);
}

function writeGroup(out: RdbOut, g: StreamGroup): void {
  out.string(g.name);
  lenOfIdPart(out, g.lastId, true);
  lenOfIdPart(out, g.lastId, false);
  out.len(g.entriesRead < 0 ? U64_MAX : g.entriesRead);
  out.len(g.pel.size);
  g.pel.forEach((id, _score, nack) => {
    out.rawString(id);
    out.ms(nack.deliveryTime);
    out.len(nack.deliveryCount);
  });
  const consumers = g.sortedConsumers();
  out.len(consumers.length);
  for (const c of consumers) {
    out.string(c.name);
    out.ms(c.seenTime);
    out.len(c.pel.size);
    c.pel.forEach((id) => out.rawString(id));
  }
}

// ---------------------------------------------------------------------------------------------
// Reader

function bad(what: string): never {
  throw new RdbError(`Stream ${what}`);
}

function asInt(v: string | number | bigint | undefined): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) bad('listpack has a non-integer where an integer is expected');
  return v;
}

function asText(v: string | number | bigint | undefined): string {
  if (v === undefined) bad('listpack is truncated');
  return typeof v === 'string' ? v : v.toString();
}

function asDelta(v: string | number | bigint | undefined): number | bigint {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  bad('listpack has a non-integer id delta');
}

export function readStream(cur: Cursor, type: number): StreamValue {
  const s = new StreamClass();
  const nodes = cur.len();
  let prevKey: string | null = null;
  let prevId: StreamId | null = null;
  for (let n = 0; n < nodes; n++) {
    const keyBuf = cur.blob();
    if (keyBuf.length !== 16) bad('node key entry is not the size of a stream ID');
    const master = keyBuf.latin1Slice(0, 16);
    if (prevKey !== null && master <= prevKey) bad('node keys are not in ascending order');
    prevKey = master;
    const items = lpDecodeValues(cur.blob());
    if (items.length === 0) bad('listpack is empty');
    const masterMs = idMsNumber(master) ?? idMs(master);
    const masterSeq = idSeqNumber(master) ?? idSeq(master);
    let p = 0;
    const count = asInt(items[p++]);
    const deleted = asInt(items[p++]);
    const nmf = asInt(items[p++]);
    if (nmf < 0 || p + nmf + 1 > items.length) bad('master entry is corrupt');
    const mf: string[] = [];
    for (let i = 0; i < nmf; i++) mf.push(asText(items[p++]));
    if (asInt(items[p++]) !== 0) bad('master entry terminator is missing');
    let live = 0;
    let dead = 0;
    while (p < items.length) {
      const start = p;
      const flags = asInt(items[p++]);
      const id = idFrom(addDelta(masterMs, asDelta(items[p++])), addDelta(masterSeq, asDelta(items[p++])));
      let fields: string[];
      if (flags & FLAG_SAMEFIELDS) {
        if (p + nmf > items.length) bad('entry is truncated');
        fields = new Array<string>(nmf * 2);
        for (let i = 0; i < nmf; i++) {
          fields[i * 2] = mf[i]!;
          fields[i * 2 + 1] = asText(items[p++]);
        }
      } else {
        const nf = asInt(items[p++]);
        if (nf < 0 || p + nf * 2 > items.length) bad('entry is truncated');
        fields = new Array<string>(nf * 2);
        for (let i = 0; i < nf * 2; i++) fields[i] = asText(items[p++]);
      }
      const lpCount = asInt(items[p++]);
      if (lpCount !== p - start - 1) bad('entry lp-count is inconsistent');
      if (flags & FLAG_DELETED) {
        dead++;
        continue;
      }
      if (prevId !== null && id <= prevId) bad('entries are not in ascending ID order');
      prevId = id;
      live++;
      s.appendLoaded(id, fields);
    }
    if (live !== count || dead !== deleted) bad('node entry counts are inconsistent');
  }
  const length = cur.len();
  if (length !== s.length) bad(`length ${length} differs from its ${s.length} entries`);
  s.lastId = idFrom(cur.lenBig(), cur.lenBig());
  if (prevId !== null && prevId > s.lastId) bad('last ID is smaller than an entry ID');
  if (type === RDB_TYPE_STREAM_LISTPACKS) {
    s.entriesAdded = length;
  } else {
    cur.lenBig(); // first id: derived from the entries
    cur.lenBig();
    s.maxDeletedId = idFrom(cur.lenBig(), cur.lenBig());
    const added = cur.lenBig();
    s.entriesAdded = typeof added === 'number' ? added : Number(added);
  }
  const groups = cur.len();
  for (let gi = 0; gi < groups; gi++) {
    const name = cur.str();
    const lastId = idFrom(cur.lenBig(), cur.lenBig());
    let entriesRead = -1;
    if (type !== RDB_TYPE_STREAM_LISTPACKS) {
      const er = cur.lenBig();
      entriesRead = typeof er === 'number' ? er : -1;
    }
    const g = s.createGroup(name, lastId, entriesRead);
    if (g === undefined) bad('has a duplicated consumer group name');
    const pel = cur.len();
    for (let i = 0; i < pel; i++) {
      const id = cur.rawString(16);
      const deliveryTime = cur.int64LE();
      const deliveryCount = cur.len();
      if (g.nack(id) !== undefined) bad('has a duplicated global PEL entry');
      g.addPending(id, deliveryTime, deliveryCount);
    }
    const consumers = cur.len();
    for (let ci = 0; ci < consumers; ci++) {
      const cname = cur.str();
      const seen = cur.int64LE();
      if (type === RDB_TYPE_STREAM_LISTPACKS_3) cur.int64LE(); // active-time (7.2+)
      if (g.consumers.has(cname)) bad('has a duplicated consumer');
      const c = g.createConsumer(cname, seen);
      const cpel = cur.len();
      for (let i = 0; i < cpel; i++) {
        const id = cur.rawString(16);
        const nack = g.nack(id);
        if (nack === undefined) bad('consumer PEL entry is not in the group PEL');
        if (nack.consumer !== null) bad('has a duplicated consumer PEL entry');
        g.assignPending(c, id);
      }
    }
    let orphan = false;
    g.pel.forEach((_id, _score, nack) => {
      if (nack.consumer === null) orphan = true;
    });
    if (orphan) bad('group PEL entry has no consumer');
  }
  return s;
}
