/**
 * XREAD and XREADGROUP (Redis 7.0 xreadCommand), including BLOCK.
 *
 * XREADGROUP changes consumer-group state but is never propagated as sent: each entry it
 * delivers is propagated as `XCLAIM key group consumer 0 <id> TIME <ms> RETRYCOUNT <n> FORCE
 * JUSTID LASTID <id>`, a consumer created under NOACK as `XGROUP CREATECONSUMER`, and with NOACK
 * the moved group position as `XGROUP SETID ... ENTRIESREAD <n>` (replication.md §5.4).
 * Reading a consumer's history (an explicit ID) updates delivery counters locally only, as in
 * Redis 7.0.
 */
import type { Client } from '../net/client.js';
import type { Db } from '../keyspace/db.js';
import type { DeferredReply } from '../protocol/reply-writer.js';
import { incrId, type StreamConsumer, type StreamGroup, type StreamId, type StreamValue } from '../types/stream.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';
import {
  ID_MAX,
  ID_MIN,
  createConsumer,
  deliverToGroup,
  formatId,
  parseIdOrReply,
  readStream,
  setIdPropagation,
  writeEntry,
  xclaimPropagation,
} from './stream-common.js';

/** Entries per stream returned to a client woken from XREAD[GROUP] BLOCK without COUNT. */
const XREAD_BLOCKED_DEFAULT_COUNT = 1000;

interface GroupRead {
  groupName: string;
  consumerName: string;
  noack: boolean;
}

/**
 * Writes the entries after `gt` for one stream (the inner part of streamReplyWithRange) and,
 * for a group read, performs the deliveries and queues their propagation. Returns how many
 * ops were propagated.
 */
function replyRange(c: Client, db: Db, key: string, s: StreamValue, gt: StreamId, count: number, g: StreamGroup | null, consumer: StreamConsumer | null, noack: boolean): number {
  const start = incrId(gt) ?? ID_MIN;
  const token = c.w.beginDeferred();
  let n = 0;
  let lastIdMoved = false;
  let props = 0;
  const now = Date.now();
  const prop = c.server.propagator;
  s.range(start, ID_MAX, false, (id, fields) => {
    let nack = null;
    if (g !== null) {
      const r = deliverToGroup(s, g, consumer!, id, noack, now);
      nack = r.nack;
      if (r.lastIdMoved) lastIdMoved = true;
    }
    writeEntry(c, id, fields);
    if (nack !== null) {
      prop.also(db.id, xclaimPropagation(key, g!, id, nack));
      props++;
    }
    n++;
    return count === 0 || n < count;
  });
  if (g !== null && noack && lastIdMoved) {
    prop.also(db.id, setIdPropagation(key, g));
    props++;
  }
  c.w.endDeferred(token, n);
  return props;
}

/** streamReplyWithRangeFromConsumerPEL: a consumer's own pending entries from `start`. */
function replyHistory(c: Client, s: StreamValue, consumer: StreamConsumer, start: StreamId, count: number): void {
  const token = c.w.beginDeferred();
  let n = 0;
  const now = Date.now();
  const w = c.w;
  for (const p = consumer.pel.lowerBound((_s, m) => m >= start).pos; p.valid && (count === 0 || n < count); p.next()) {
    const id = p.member;
    const fields = s.get(id);
    if (fields === undefined) {
      // Still pending but deleted from the stream meanwhile: [id, nil].
      w.array(2);
      w.bulk(formatId(id));
      w.nullArray();
    } else {
      writeEntry(c, id, fields);
      const nack = p.value;
      nack.deliveryTime = now;
      nack.deliveryCount++;
    }
    n++;
  }
  w.endDeferred(token, n);
}

/** The consumer for a group read: looked up (refreshing its seen time) or created. */
function lookupOrCreateConsumer(c: Client, db: Db, key: string, g: StreamGroup, gr: GroupRead): StreamConsumer {
  let consumer = g.consumers.get(gr.consumerName);
  if (consumer === undefined) {
    consumer = createConsumer(c, g, gr.consumerName, key);
    if (gr.noack) c.server.propagator.also(db.id, ['XGROUP', 'CREATECONSUMER', key, g.name, consumer.name]);
  }
  consumer.seenTime = Date.now();
  return consumer;
}

function xreadGeneric(c: Client, argv: string[], xreadgroup: boolean): void {
  // Nothing XREAD[GROUP] does is propagated as sent (see the header).
  c.server.propagator.prevent();
  let timeout = -1;
  let count = 0;
  let streamsArg = 0;
  let streamsCount = 0;
  let noack = false;
  let groupName: string | null = null;
  let consumerName: string | null = null;
  for (let i = 1; i < argv.length; i++) {
    const more = argv.length - i - 1;
    const o = argv[i]!.toLowerCase();
    if (o === 'block' && more > 0) {
      i++;
      const t = parseInt64(argv[i]!);
      if (t === null) {
        c.w.error('ERR timeout is not an integer or out of range');
        return;
      }
      if (t < 0) {
        c.w.error('ERR timeout is negative');
        return;
      }
      timeout = t;
    } else if (o === 'count' && more > 0) {
      i++;
      const n = parseInt64(argv[i]!);
      if (n === null) {
        c.w.error(Err.notInteger);
        return;
      }
      count = n < 0 ? 0 : n;
    } else if (o === 'streams' && more > 0) {
      streamsArg = i + 1;
      streamsCount = argv.length - streamsArg;
      if (streamsCount % 2 !== 0) {
        c.w.error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
        return;
      }
      streamsCount /= 2;
      break;
    } else if (o === 'group' && more >= 2) {
      if (!xreadgroup) {
        c.w.error('ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.');
        return;
      }
      groupName = argv[i + 1]!;
      consumerName = argv[i + 2]!;
      i += 2;
    } else if (o === 'noack') {
      if (!xreadgroup) {
        c.w.error('ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.');
        return;
      }
      noack = true;
    } else {
      c.w.error(Err.syntax);
      return;
    }
  }
  if (streamsArg === 0) {
    c.w.error(Err.syntax);
    return;
  }
  if (xreadgroup && groupName === null) {
    c.w.error('ERR Missing GROUP option for XREADGROUP');
    return;
  }
  const keys = argv.slice(streamsArg, streamsArg + streamsCount);
  const ids: StreamId[] = [];
  for (let k = 0; k < streamsCount; k++) {
    const key = keys[k]!;
    const idArg = argv[streamsArg + streamsCount + k]!;
    const s = readStream(c, key);
    if (s === null) return;
    if (groupName !== null && (s === undefined || s.group(groupName) === undefined)) {
      c.w.error(`NOGROUP No such key '${key}' or consumer group '${groupName}' in XREADGROUP with GROUP option`);
      return;
    }
    if (idArg === '$') {
      if (xreadgroup) {
        c.w.error(
          'ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.',
        );
        return;
      }
      ids.push(s === undefined ? ID_MIN : s.lastId);
    } else if (idArg === '>') {
      if (!xreadgroup) {
        c.w.error('ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.');
        return;
      }
      ids.push(ID_MAX); // marks '>': replaced by the group's last id when served
    } else {
      const id = parseIdOrReply(c, idArg, 0n, true);
      if (id === null) return;
      ids.push(id);
    }
  }
  const gr: GroupRead | null = groupName === null ? null : { groupName, consumerName: consumerName!, noack };
  const db = c.db;

  // Serve synchronously what can be served.
  let served = 0;
  let token: DeferredReply | null = null;
  let props = 0;
  for (let k = 0; k < streamsCount; k++) {
    const key = keys[k]!;
    const s = readStream(c, key);
    if (s === null || s === undefined) continue;
    let gt = ids[k]!;
    let serve = false;
    let history = false;
    let g: StreamGroup | null = null;
    let consumer: StreamConsumer | null = null;
    if (gr !== null) {
      g = s.group(gr.groupName)!;
      if (gt !== ID_MAX) {
        serve = true;
        history = true;
      } else if (s.length > 0 && s.lastLiveId() > g.lastId) {
        serve = true;
        gt = g.lastId;
      }
    } else if (s.length > 0 && s.lastLiveId() > gt) {
      serve = true;
    }
    if (!serve) continue;
    // Redis 7.0 looks the consumer up (creating it) only for a stream it serves.
    if (gr !== null) consumer = lookupOrCreateConsumer(c, db, key, g!, gr);
    if (served++ === 0) token = c.w.beginDeferred();
    if (c.w.proto === 2) c.w.array(2);
    c.w.bulk(key);
    if (history) replyHistory(c, s, consumer!, incrId(gt) ?? ID_MIN, count);
    else props += replyRange(c, db, key, s, gt, count, g, consumer, noack);
  }
  if (props > 0) c.server.keyspace.dirty++;
  if (served > 0) {
    c.w.endDeferred(token!, served, c.w.proto === 2 ? 'array' : 'map');
    return;
  }
  if (timeout === -1) {
    c.w.nullArray();
    return;
  }
  const blocking = c.server.blocking;
  if (!blocking.canBlock(c)) {
    c.w.nullArray();
    return;
  }
  const blockedCount = count > 0 ? count : XREAD_BLOCKED_DEFAULT_COUNT;
  blocking.block(
    c,
    db,
    keys,
    timeout,
    (key) => serveBlocked(c, db, key, keys, ids, gr, blockedCount),
    () => c.w.nullArray(),
  );
}

/** serveClientsBlockedOnStreamKey for one woken client. */
function serveBlocked(c: Client, db: Db, key: string, keys: string[], ids: StreamId[], gr: GroupRead | null, count: number): boolean {
  const v = db.lookupRead(key);
  if (v === undefined || typeof v === 'string' || v.type !== 'stream') return false;
  const s = v;
  const k = keys.indexOf(key);
  let gt = ids[k]!;
  let g: StreamGroup | null = null;
  if (gr !== null) {
    g = s.group(gr.groupName) ?? null;
    if (g === null) {
      c.w.error('NOGROUP the consumer group this client was blocked on no longer exists');
      return true;
    }
    gt = g.lastId;
  }
  if (!(s.lastId > gt)) return false;
  let consumer: StreamConsumer | null = null;
  if (gr !== null) consumer = lookupOrCreateConsumer(c, db, key, g!, gr);
  if (c.w.proto === 2) {
    c.w.array(1);
    c.w.array(2);
  } else {
    c.w.map(1);
  }
  c.w.bulk(key);
  const props = replyRange(c, db, key, s, gt, count, g, consumer, gr !== null && gr.noack);
  if (props > 0) c.server.keyspace.dirty++;
  return true;
}

export function xreadCommand(c: Client, argv: string[]): void {
  xreadGeneric(c, argv, false);
}

export function xreadgroupCommand(c: Client, argv: string[]): void {
  xreadGeneric(c, argv, true);
}

/** xreadGetKeys: the keys after STREAMS (the first half of what follows it). */
export function xreadKeys(argv: string[]): number[] {
  let pos = -1;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!.toLowerCase();
    if (a === 'block' || a === 'count') i++;
    else if (a === 'group') i += 2;
    else if (a === 'noack') continue;
    else if (a === 'streams') {
      pos = i;
      break;
    } else break;
  }
  const num = argv.length - pos - 1;
  if (pos === -1 || num === 0 || num % 2 !== 0) return [];
  const out: number[] = [];
  for (let k = 0; k < num / 2; k++) out.push(pos + 1 + k);
  return out;
}
