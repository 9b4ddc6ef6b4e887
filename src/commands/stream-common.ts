/**
 * Shared pieces of the stream commands: ID argument parsing with Redis's error texts, typed
 * lookups, entry replies, and the consumer-group bookkeeping that XREADGROUP, XCLAIM and
 * XAUTOCLAIM share (delivery with PEL updates and its XCLAIM propagation).
 */
import type { Client } from '../net/client.js';
import type { Config } from '../config/config.js';
import {
  ID_MAX,
  ID_MIN,
  StreamValue,
  formatId,
  parseStreamId,
  type NodeLimits,
  type StreamConsumer,
  type StreamGroup,
  type StreamId,
  type StreamNack,
} from '../types/stream.js';
import { Err } from '../protocol/errors.js';
import { lookupKeyRead } from './keys-lookup.js';

export const ERR_INVALID_ID = 'ERR Invalid stream ID specified as stream command argument';

/** The SCG_INVALID_ENTRIES_READ marker. */
export const INVALID_ENTRIES_READ = -1;

/** stream-node-max-bytes / -entries. */
export function nodeLimits(cfg: Config): NodeLimits {
  return { maxBytes: cfg.int('stream-node-max-bytes'), maxEntries: cfg.int('stream-node-max-entries') };
}

/**
 * streamGenericParseIDOrReply: "<ms>-<seq>", "<ms>" (seq := missingSeq), and unless `strict`
 * the special "-" / "+". Replies the error and returns null when invalid.
 */
export function parseIdOrReply(c: Client | null, s: string, missingSeq: bigint, strict: boolean): StreamId | null {
  if (s.length === 1 && (s === '-' || s === '+')) {
    if (!strict) return s === '-' ? ID_MIN : ID_MAX;
    c?.w.error(ERR_INVALID_ID);
    return null;
  }
  const p = parseStreamId(s, missingSeq, false);
  if (p === null) {
    c?.w.error(ERR_INVALID_ID);
    return null;
  }
  return p.id;
}

/**
 * streamParseIntervalIDOrReply: an optional "(" prefix makes the bound exclusive (and then the
 * rest is parsed strictly).
 */
export function parseIntervalOrReply(c: Client, s: string, missingSeq: bigint): { id: StreamId; ex: boolean } | null {
  const ex = s.length > 1 && s.charCodeAt(0) === 40; /* ( */
  const id = ex ? parseIdOrReply(c, s.slice(1), missingSeq, true) : parseIdOrReply(c, s, missingSeq, false);
  return id === null ? null : { id, ex };
}

/** lookupKeyRead + checkType(OBJ_STREAM). */
export function readStream(c: Client, key: string): StreamValue | undefined | null {
  const v = lookupKeyRead(c, key);
  if (v === undefined) return undefined;
  if (typeof v === 'string' || v.type !== 'stream') {
    c.w.error(Err.wrongType);
    return null;
  }
  return v;
}

/** lookupKeyWrite + checkType(OBJ_STREAM). */
export function writeStream(c: Client, key: string): StreamValue | undefined | null {
  const v = c.db.lookupWrite(key);
  if (v === undefined) return undefined;
  if (typeof v === 'string' || v.type !== 'stream') {
    c.w.error(Err.wrongType);
    return null;
  }
  return v;
}

/** Entries whose fields total less than this are encoded as one string (one buffer write). */
const SMALL_ENTRY = 512;

/** One entry: [id, [field, value, ...]]. */
export function writeEntry(c: Client, id: StreamId, fields: string[]): void {
  const w = c.w;
  const idText = formatId(id);
  let total = 0;
  for (let i = 0; i < fields.length && total < SMALL_ENTRY; i++) total += fields[i]!.length;
  if (total < SMALL_ENTRY) {
    // Each write into the reply buffer crosses into native code; a small entry is cheaper to
    // encode as one string and write once.
    let s = '*2\r\n$' + idText.length + '\r\n' + idText + '\r\n*' + fields.length + '\r\n';
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      s += '$' + f.length + '\r\n' + f + '\r\n';
    }
    w.rawString(s);
    return;
  }
  w.array(2);
  w.bulk(idText);
  w.array(fields.length);
  for (let i = 0; i < fields.length; i++) w.bulk(fields[i]!);
}

/** `-NOGROUP No such key '<k>' or consumer group '<g>'` + suffix. */
export function noGroupError(key: string, group: string, suffix = ''): string {
  return `NOGROUP No such key '${key}' or consumer group '${group}'${suffix}`;
}

// ---------------------------------------------------------------------------------------------
// Logical read counters (consumer group lag, Redis 7.0)

/** streamRangeHasTombstones(s, start, end=+inf). */
export function rangeHasTombstones(s: StreamValue, start: StreamId): boolean {
  if (s.length === 0 || s.maxDeletedId === ID_MIN) return false;
  if (s.firstId > s.maxDeletedId) return false;
  return start <= s.maxDeletedId;
}

/** streamEstimateDistanceFromFirstEverEntry: an ID's logical read counter, or -1 when unknown. */
export function estimateDistance(s: StreamValue, id: StreamId): number {
  if (s.entriesAdded === 0) return 0;
  if (s.length === 0 && id <= s.lastId) return s.entriesAdded;
  if (id === s.lastId) return s.entriesAdded;
  if (id > s.lastId) return INVALID_ENTRIES_READ;
  const first = s.firstId;
  if (s.maxDeletedId === ID_MIN || s.maxDeletedId < first) {
    if (id < first) return s.entriesAdded - s.length;
    if (id === first) return s.entriesAdded - s.length + 1;
  }
  return INVALID_ENTRIES_READ;
}

/** streamReplyWithCGLag: the group's lag, or null when it cannot be known. */
export function groupLag(s: StreamValue, g: StreamGroup): number | null {
  if (s.entriesAdded === 0) return 0;
  if (g.entriesRead !== INVALID_ENTRIES_READ && !rangeHasTombstones(s, g.lastId)) return s.entriesAdded - g.entriesRead;
  const er = estimateDistance(s, g.lastId);
  return er === INVALID_ENTRIES_READ ? null : s.entriesAdded - er;
}

// ---------------------------------------------------------------------------------------------
// Consumer groups

/**
 * streamCreateConsumer with the default flags: dirty++ and the `xgroup-createconsumer` event
 * (Redis does not signal the key as modified for it).
 */
export function createConsumer(c: Client, g: StreamGroup, name: string, key: string): StreamConsumer {
  const consumer = g.createConsumer(name, Date.now());
  const ks = c.server.keyspace;
  ks.dirty++;
  ks.notify(c.db, key, 't', 'xgroup-createconsumer');
  return consumer;
}

/** The 14-argument XCLAIM that re-creates a PEL entry on replicas (streamPropagateXCLAIM). */
export function xclaimPropagation(key: string, group: StreamGroup, id: StreamId, nack: StreamNack): string[] {
  return [
    'XCLAIM',
    key,
    group.name,
    nack.consumer!.name,
    '0',
    formatId(id),
    'TIME',
    String(nack.deliveryTime),
    'RETRYCOUNT',
    String(nack.deliveryCount),
    'FORCE',
    'JUSTID',
    'LASTID',
    formatId(group.lastId),
  ];
}

/** `XGROUP SETID key group <last-id> ENTRIESREAD <n>` (streamPropagateGroupID). */
export function setIdPropagation(key: string, group: StreamGroup): string[] {
  return ['XGROUP', 'SETID', key, group.name, formatId(group.lastId), 'ENTRIESREAD', String(group.entriesRead)];
}

/**
 * The group part of streamReplyWithRange for one delivered entry: advances the group's last
 * id and read counter, and (without NOACK) creates or reassigns the PEL entry for `consumer`.
 * Returns the nack when one was created/updated (the caller propagates it as XCLAIM), and
 * whether the last id moved.
 */
export function deliverToGroup(
  s: StreamValue,
  g: StreamGroup,
  consumer: StreamConsumer,
  id: StreamId,
  noack: boolean,
  now: number,
): { nack: StreamNack | null; lastIdMoved: boolean } {
  let lastIdMoved = false;
  if (id > g.lastId) {
    if (g.entriesRead !== INVALID_ENTRIES_READ && !rangeHasTombstones(s, id)) g.entriesRead++;
    else if (s.entriesAdded !== 0) g.entriesRead = estimateDistance(s, id);
    g.lastId = id;
    lastIdMoved = true;
  }
  if (noack) return { nack: null, lastIdMoved };
  let nack = g.nack(id);
  if (nack === undefined) {
    nack = { deliveryTime: now, deliveryCount: 1, consumer };
    g.pel.insert(0, id, nack);
    consumer.pel.insert(0, id, nack);
  } else {
    // Already pending (the group's last id was moved back with SETID): the entry now belongs
    // to this consumer, as a first delivery.
    nack.consumer?.pel.delete(0, id);
    nack.consumer = consumer;
    nack.deliveryTime = now;
    nack.deliveryCount = 1;
    consumer.pel.insert(0, id, nack);
  }
  return { nack, lastIdMoved };
}

export { ID_MAX, ID_MIN, formatId };
