/**
 * Consumer-group commands: XGROUP (CREATE SETID DESTROY CREATECONSUMER DELCONSUMER HELP), XACK,
 * XPENDING, XCLAIM, XAUTOCLAIM (Redis 7.0 t_stream.c).
 *
 * XCLAIM and XAUTOCLAIM are propagated as one idempotent `XCLAIM ... FORCE JUSTID LASTID` per
 * claimed (or dropped) entry, never as sent.
 */
import type { Client } from '../net/client.js';
import { StreamValue, decrId, incrId, type StreamGroup, type StreamId, type StreamNack } from '../types/stream.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';
import {
  ID_MIN,
  createConsumer,
  formatId,
  noGroupError,
  parseIdOrReply,
  parseIntervalOrReply,
  readStream,
  setIdPropagation,
  writeEntry,
  writeStream,
  xclaimPropagation,
} from './stream-common.js';

// ---------------------------------------------------------------------------------------------
// XGROUP

function subcommandSyntaxError(c: Client, sub: string, container: string): void {
  c.w.error(`ERR unknown subcommand or wrong number of arguments for '${sub.slice(0, 128)}'. Try ${container} HELP.`);
}

interface XgroupCtx {
  s: StreamValue | undefined;
  g: StreamGroup | undefined;
  mkstream: boolean;
  entriesRead: number;
}

/**
 * The checks xgroupCommand does before dispatching: options (MKSTREAM, ENTRIESREAD), the key
 * (must exist unless MKSTREAM), and the group for SETID/CREATECONSUMER/DELCONSUMER.
 */
function xgroupPrepare(c: Client, argv: string[]): XgroupCtx | null {
  const sub = argv[1]!.toLowerCase();
  const ctx: XgroupCtx = { s: undefined, g: undefined, mkstream: false, entriesRead: -1 };
  const create = sub === 'create';
  const setid = sub === 'setid';
  for (let i = 5; i < argv.length; ) {
    const opt = argv[i]!.toLowerCase();
    if (create && opt === 'mkstream') {
      ctx.mkstream = true;
      i++;
    } else if ((create || setid) && opt === 'entriesread' && i + 1 < argv.length) {
      const n = parseInt64(argv[i + 1]!);
      if (n === null) {
        c.w.error(Err.notInteger);
        return null;
      }
      if (n < 0 && n !== -1) {
        c.w.error('ERR value for ENTRIESREAD must be positive or -1');
        return null;
      }
      ctx.entriesRead = n;
      i += 2;
    } else {
      subcommandSyntaxError(c, argv[1]!, 'XGROUP');
      return null;
    }
  }
  const s = writeStream(c, argv[2]!);
  if (s === null) return null;
  ctx.s = s;
  if (!ctx.mkstream) {
    if (s === undefined) {
      c.w.error(
        'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.',
      );
      return null;
    }
    ctx.g = s.group(argv[3]!);
    if (ctx.g === undefined && (setid || sub === 'createconsumer' || sub === 'delconsumer')) {
      c.w.error(`NOGROUP No such consumer group '${argv[3]!}' for key name '${argv[2]!}'`);
      return null;
    }
  }
  return ctx;
}

export function xgroupCreateCommand(c: Client, argv: string[]): void {
  const ctx = xgroupPrepare(c, argv);
  if (ctx === null) return;
  if (argv.length > 8) {
    subcommandSyntaxError(c, argv[1]!, 'XGROUP');
    return;
  }
  const key = argv[2]!;
  let id: StreamId;
  if (argv[4] === '$') id = ctx.s === undefined ? ID_MIN : ctx.s.lastId;
  else {
    const p = parseIdOrReply(c, argv[4]!, 0n, true);
    if (p === null) return;
    id = p;
  }
  const ks = c.server.keyspace;
  let s = ctx.s;
  if (s === undefined) {
    s = new StreamValue();
    c.db.add(key, s);
    ks.touch(c.db, key);
  }
  if (s.createGroup(argv[3]!, id, ctx.entriesRead) !== undefined) {
    c.w.ok();
    ks.dirty++;
    ks.notify(c.db, key, 't', 'xgroup-create');
  } else {
    c.w.error('BUSYGROUP Consumer Group name already exists');
  }
}

export function xgroupSetidCommand(c: Client, argv: string[]): void {
  const ctx = xgroupPrepare(c, argv);
  if (ctx === null) return;
  if (argv.length !== 5 && argv.length !== 7) {
    subcommandSyntaxError(c, argv[1]!, 'XGROUP');
    return;
  }
  let id: StreamId;
  if (argv[4] === '$') id = ctx.s!.lastId;
  else {
    const p = parseIdOrReply(c, argv[4]!, 0n, false);
    if (p === null) return;
    id = p;
  }
  ctx.g!.lastId = id;
  ctx.g!.entriesRead = ctx.entriesRead;
  c.w.ok();
  const ks = c.server.keyspace;
  ks.dirty++;
  ks.notify(c.db, argv[2]!, 't', 'xgroup-setid');
}

export function xgroupDestroyCommand(c: Client, argv: string[]): void {
  const ctx = xgroupPrepare(c, argv);
  if (ctx === null) return;
  if (ctx.g === undefined) {
    c.w.int(0);
    return;
  }
  ctx.s!.deleteGroup(argv[3]!);
  c.w.int(1);
  const ks = c.server.keyspace;
  ks.dirty++;
  ks.notify(c.db, argv[2]!, 't', 'xgroup-destroy');
  // Clients blocked in XREADGROUP on this group get -NOGROUP.
  ks.signalKeyReady(c.db, argv[2]!);
}

export function xgroupCreateconsumerCommand(c: Client, argv: string[]): void {
  const ctx = xgroupPrepare(c, argv);
  if (ctx === null) return;
  if (ctx.g!.consumers.has(argv[4]!)) {
    c.w.int(0);
    return;
  }
  createConsumer(c, ctx.g!, argv[4]!, argv[2]!);
  c.w.int(1);
}

export function xgroupDelconsumerCommand(c: Client, argv: string[]): void {
  const ctx = xgroupPrepare(c, argv);
  if (ctx === null) return;
  const g = ctx.g!;
  let pending = 0;
  if (g.consumers.has(argv[4]!)) {
    pending = g.deleteConsumer(argv[4]!);
    const ks = c.server.keyspace;
    ks.dirty++;
    ks.notify(c.db, argv[2]!, 't', 'xgroup-delconsumer');
  }
  c.w.int(pending);
}

const XGROUP_HELP = [
  'XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  "      Set the group's entries_read counter (internal use).",
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
  'HELP',
  '    Prints this help.',
];

export function writeHelp(c: Client, lines: readonly string[]): void {
  c.w.array(lines.length);
  for (const l of lines) c.w.simple(l);
}

export function xgroupHelpCommand(c: Client): void {
  writeHelp(c, XGROUP_HELP);
}

// ---------------------------------------------------------------------------------------------
// XACK

export function xackCommand(c: Client, argv: string[]): void {
  const s = readStream(c, argv[1]!);
  if (s === null) return;
  const g = s === undefined ? undefined : s.group(argv[2]!);
  if (g === undefined) {
    c.w.int(0);
    return;
  }
  // All IDs are checked first: the reply cannot be an error once some were acknowledged.
  const ids: StreamId[] = [];
  for (let j = 3; j < argv.length; j++) {
    const id = parseIdOrReply(c, argv[j]!, 0n, true);
    if (id === null) return;
    ids.push(id);
  }
  let acked = 0;
  for (const id of ids) if (g.removePending(id)) acked++;
  c.server.keyspace.dirty += acked;
  c.w.int(acked);
}

// ---------------------------------------------------------------------------------------------
// XPENDING

export function xpendingCommand(c: Client, argv: string[]): void {
  const justinfo = argv.length === 3;
  if (argv.length !== 3 && (argv.length < 6 || argv.length > 9)) {
    c.w.error(Err.syntax);
    return;
  }
  let minidle = 0;
  let count = 0;
  let start: StreamId = ID_MIN;
  let end: StreamId = ID_MIN;
  let consumerName: string | null = null;
  if (argv.length >= 6) {
    let startidx = 3;
    if (argv[3]!.toLowerCase() === 'idle') {
      const n = parseInt64(argv[4]!);
      if (n === null) {
        c.w.error(Err.notInteger);
        return;
      }
      minidle = n;
      if (argv.length < 8) {
        c.w.error(Err.syntax);
        return;
      }
      startidx += 2;
    }
    const n = parseInt64(argv[startidx + 2]!);
    if (n === null) {
      c.w.error(Err.notInteger);
      return;
    }
    count = n < 0 ? 0 : n;
    const a = parseIntervalOrReply(c, argv[startidx]!, 0n);
    if (a === null) return;
    start = a.id;
    if (a.ex) {
      const x = incrId(a.id);
      if (x === null) {
        c.w.error('ERR invalid start ID for the interval');
        return;
      }
      start = x;
    }
    const b = parseIntervalOrReply(c, argv[startidx + 1]!, 18446744073709551615n);
    if (b === null) return;
    end = b.id;
    if (b.ex) {
      const x = decrId(b.id);
      if (x === null) {
        c.w.error('ERR invalid end ID for the interval');
        return;
      }
      end = x;
    }
    if (startidx + 3 < argv.length) consumerName = argv[startidx + 3]!;
  }
  const s = readStream(c, argv[1]!);
  if (s === null) return;
  const g = s === undefined ? undefined : s.group(argv[2]!);
  if (g === undefined) {
    c.w.error(noGroupError(argv[1]!, argv[2]!));
    return;
  }
  const w = c.w;
  if (justinfo) {
    w.array(4);
    w.int(g.pel.size);
    if (g.pel.size === 0) {
      w.nullBulk();
      w.nullBulk();
      w.nullArray();
      return;
    }
    w.bulk(formatId(g.pel.first().member));
    w.bulk(formatId(g.pel.last().member));
    const withPending = g.sortedConsumers().filter((x) => x.pel.size > 0);
    w.array(withPending.length);
    for (const x of withPending) {
      w.array(2);
      w.bulk(x.name);
      w.bulk(String(x.pel.size));
    }
    return;
  }
  let pel = g.pel;
  if (consumerName !== null) {
    const consumer = g.consumers.get(consumerName);
    if (consumer === undefined) {
      w.array(0);
      return;
    }
    pel = consumer.pel;
  }
  const now = Date.now();
  const token = w.beginDeferred();
  let n = 0;
  for (const p = pel.lowerBound((_s, m) => m >= start).pos; count > 0 && p.valid && p.member <= end; p.next()) {
    const nack = p.value;
    if (minidle !== 0 && now - nack.deliveryTime < minidle) continue;
    n++;
    count--;
    w.array(4);
    w.bulk(formatId(p.member));
    w.bulk(nack.consumer!.name);
    w.int(Math.max(0, now - nack.deliveryTime));
    w.int(nack.deliveryCount);
  }
  w.endDeferred(token, n);
}

// ---------------------------------------------------------------------------------------------
// XCLAIM

export function xclaimCommand(c: Client, argv: string[]): void {
  c.server.propagator.prevent();
  const key = argv[1]!;
  const s = readStream(c, key);
  if (s === null) return;
  const g = s === undefined ? undefined : s.group(argv[2]!);
  if (g === undefined) {
    c.w.error(noGroupError(key, argv[2]!));
    return;
  }
  let minidle = parseInt64(argv[4]!);
  if (minidle === null) {
    c.w.error('ERR Invalid min-idle-time argument for XCLAIM');
    return;
  }
  if (minidle < 0) minidle = 0;
  // IDs first; the first argument that is not an ID starts the options.
  const ids: StreamId[] = [];
  let j = 5;
  for (; j < argv.length; j++) {
    const id = parseIdOrReply(null, argv[j]!, 0n, true);
    if (id === null) break;
    ids.push(id);
  }
  const now = Date.now();
  let deliverytime = -1;
  let retrycount = -1;
  let force = false;
  let justid = false;
  let lastId = ID_MIN;
  for (; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j]!;
    const lower = opt.toLowerCase();
    if (lower === 'force') force = true;
    else if (lower === 'justid') justid = true;
    else if (lower === 'idle' && more > 0) {
      const n = parseInt64(argv[++j]!);
      if (n === null) {
        c.w.error('ERR Invalid IDLE option argument for XCLAIM');
        return;
      }
      deliverytime = now - n;
    } else if (lower === 'time' && more > 0) {
      const n = parseInt64(argv[++j]!);
      if (n === null) {
        c.w.error('ERR Invalid TIME option argument for XCLAIM');
        return;
      }
      deliverytime = n;
    } else if (lower === 'retrycount' && more > 0) {
      const n = parseInt64(argv[++j]!);
      if (n === null) {
        c.w.error('ERR Invalid RETRYCOUNT option argument for XCLAIM');
        return;
      }
      retrycount = n;
    } else if (lower === 'lastid' && more > 0) {
      const id = parseIdOrReply(c, argv[++j]!, 0n, true);
      if (id === null) return;
      lastId = id;
    } else {
      c.w.error(`ERR Unrecognized XCLAIM option '${opt}'`);
      return;
    }
  }
  const ks = c.server.keyspace;
  const prop = c.server.propagator;
  const dbid = c.db.id;
  let propagateLastId = false;
  if (lastId > g.lastId) {
    g.lastId = lastId;
    propagateLastId = true;
  }
  // A delivery time from IDLE/TIME is kept within [0, now] rather than refused (clients compute
  // it from their own clocks).
  if (deliverytime === -1 || deliverytime < 0 || deliverytime > now) deliverytime = now;
  let consumer = g.consumers.get(argv[3]!);
  if (consumer === undefined) consumer = createConsumer(c, g, argv[3]!, key);
  consumer.seenTime = now;
  const token = c.w.beginDeferred();
  let n = 0;
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k]!;
    const idArg = argv[5 + k]!;
    let nack: StreamNack | undefined = g.nack(id);
    const fields = s!.get(id);
    if (fields === undefined) {
      // The entry is gone from the stream: drop it from the PEL (and tell the replicas).
      if (nack !== undefined) {
        prop.also(dbid, xclaimPropagation(key, g, id, nack).map((a, i) => (i === 5 ? idArg : a)));
        propagateLastId = false;
        ks.dirty++;
        g.removePending(id);
      }
      continue;
    }
    if (force && nack === undefined) nack = g.addPending(id, now, 1);
    if (nack === undefined) continue;
    if (nack.consumer !== null && minidle !== 0 && now - nack.deliveryTime < minidle) continue;
    if (nack.consumer !== consumer) {
      nack.consumer?.pel.delete(0, id);
      nack.consumer = consumer;
      consumer.pel.insert(0, id, nack);
    }
    nack.deliveryTime = deliverytime;
    if (retrycount >= 0) nack.deliveryCount = retrycount;
    else if (!justid) nack.deliveryCount++;
    if (justid) c.w.bulk(formatId(id));
    else writeEntry(c, id, fields);
    n++;
    prop.also(dbid, xclaimPropagation(key, g, id, nack).map((a, i) => (i === 5 ? idArg : a)));
    propagateLastId = false;
    ks.dirty++;
  }
  if (propagateLastId) {
    prop.also(dbid, setIdPropagation(key, g));
    ks.dirty++;
  }
  c.w.endDeferred(token, n);
}

// ---------------------------------------------------------------------------------------------
// XAUTOCLAIM

const ATTEMPTS_FACTOR = 10;

export function xautoclaimCommand(c: Client, argv: string[]): void {
  c.server.propagator.prevent();
  const key = argv[1]!;
  let minidle = parseInt64(argv[4]!);
  if (minidle === null) {
    c.w.error('ERR Invalid min-idle-time argument for XAUTOCLAIM');
    return;
  }
  if (minidle < 0) minidle = 0;
  const st = parseIntervalOrReply(c, argv[5]!, 0n);
  if (st === null) return;
  let start = st.id;
  if (st.ex) {
    const x = incrId(st.id);
    if (x === null) {
      c.w.error('ERR invalid start ID for the interval');
      return;
    }
    start = x;
  }
  let count = 100;
  let justid = false;
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j]!.toLowerCase();
    if (opt === 'count' && more > 0) {
      const n = parseInt64(argv[j + 1]!);
      if (n === null || n < 1) {
        c.w.error('ERR COUNT must be > 0');
        return;
      }
      count = n;
      j++;
    } else if (opt === 'justid') {
      justid = true;
    } else {
      c.w.error(Err.syntax);
      return;
    }
  }
  const s = readStream(c, key);
  if (s === null) return;
  const g = s === undefined ? undefined : s.group(argv[2]!);
  if (g === undefined) {
    c.w.error(noGroupError(key, argv[2]!));
    return;
  }
  const now = Date.now();
  let consumer = g.consumers.get(argv[3]!);
  if (consumer === undefined) consumer = createConsumer(c, g, argv[3]!, key);
  consumer.seenTime = now;
  const ks = c.server.keyspace;
  const prop = c.server.propagator;
  const dbid = c.db.id;
  let attempts = count * ATTEMPTS_FACTOR;
  // The reply is [next cursor, claimed, deleted]: the cursor is known last, so collect first.
  const claimed: [StreamId, string[]][] = [];
  const deleted: StreamId[] = [];
  let cursor = start;
  let next: StreamId = ID_MIN;
  while (true) {
    const p = g.pel.lowerBound((_s, m) => m >= cursor).pos;
    if (!p.valid) {
      next = ID_MIN;
      break;
    }
    if (attempts-- === 0 || count === 0) {
      next = p.member;
      break;
    }
    const id = p.member;
    const nack = p.value;
    const after = incrId(id);
    const fields = s!.get(id);
    if (fields === undefined) {
      prop.also(dbid, xclaimPropagation(key, g, id, nack));
      ks.dirty++;
      g.removePending(id);
      deleted.push(id);
      count--;
    } else if (minidle === 0 || now - nack.deliveryTime >= minidle) {
      if (nack.consumer !== consumer) {
        nack.consumer?.pel.delete(0, id);
        nack.consumer = consumer;
        consumer.pel.insert(0, id, nack);
      }
      nack.deliveryTime = now;
      if (!justid) nack.deliveryCount++;
      claimed.push([id, fields]);
      count--;
      prop.also(dbid, xclaimPropagation(key, g, id, nack));
      ks.dirty++;
    }
    if (after === null) break; // the maximal ID: nothing can follow
    cursor = after;
  }
  const w = c.w;
  w.array(3);
  w.bulk(formatId(next));
  w.array(claimed.length);
  for (const [id, fields] of claimed) {
    if (justid) w.bulk(formatId(id));
    else writeEntry(c, id, fields);
  }
  w.array(deleted.length);
  for (const id of deleted) w.bulk(formatId(id));
}
