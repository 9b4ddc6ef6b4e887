/**
 * Stream entry commands: XADD XRANGE XREVRANGE XLEN XDEL XTRIM XSETID (Redis 7.0 t_stream.c
 * argument rules, errors and propagation).
 *
 * Propagation: XADD is propagated with the generated ID written in place of `*` / `<ms>-*`;
 * an approximate trim (`~`) is propagated as the exact trim it turned out to be
 * (`MAXLEN = <resulting length>` / `MINID = <first id>`), so replicas and the AOF end with the
 * same entries whatever their node layout.
 */
import type { Client } from '../net/client.js';
import { StreamValue, decrId, formatId, incrId, makeIdBig, parseStreamId, idMs, idSeq, type StreamId } from '../types/stream.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';
import {
  ERR_INVALID_ID,
  ID_MAX,
  ID_MIN,
  nodeLimits,
  parseIdOrReply,
  parseIntervalOrReply,
  readStream,
  writeEntry,
  writeStream,
} from './stream-common.js';

/** STREAM_LISTPACK_MAX_SIZE: a single entry larger than this cannot be stored. */
const LISTPACK_MAX_SIZE = 1 << 30;

// ---------------------------------------------------------------------------------------------
// XADD / XTRIM argument parsing (streamParseAddOrTrimArgsOrReply)

interface TrimArgs {
  strategy: 'none' | 'maxlen' | 'minid';
  /** argv index of the MAXLEN count / MINID id (for the propagation rewrite). */
  argIdx: number;
  approx: boolean;
  limit: number;
  maxlen: number;
  minid: StreamId;
  // XADD only:
  id: StreamId | null;
  seqGiven: boolean;
  noMkstream: boolean;
}

/** Returns the parsed args and the index where parsing stopped (the ID position for XADD). */
function parseAddOrTrim(c: Client, argv: string[], xadd: boolean): { a: TrimArgs; idpos: number } | null {
  const a: TrimArgs = {
    strategy: 'none',
    argIdx: 0,
    approx: false,
    limit: 0,
    maxlen: 0,
    minid: ID_MIN,
    id: null,
    seqGiven: true,
    noMkstream: false,
  };
  let limitGiven = false;
  let i = 2;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const opt = argv[i]!;
    if (xadd && opt === '*') break;
    const lower = opt.toLowerCase();
    if ((lower === 'maxlen' || lower === 'minid') && more > 0) {
      if (a.strategy !== 'none') {
        c.w.error('ERR syntax error, MAXLEN and MINID options at the same time are not compatible');
        return null;
      }
      a.approx = false;
      const next = argv[i + 1]!;
      if (more >= 2 && next === '~') {
        a.approx = true;
        i++;
      } else if (more >= 2 && next === '=') {
        i++;
      }
      if (lower === 'maxlen') {
        const n = parseInt64(argv[i + 1]!);
        if (n === null) {
          c.w.error(Err.notInteger);
          return null;
        }
        if (n < 0) {
          c.w.error('ERR The MAXLEN argument must be >= 0.');
          return null;
        }
        a.maxlen = n;
        a.strategy = 'maxlen';
      } else {
        const id = parseIdOrReply(c, argv[i + 1]!, 0n, true);
        if (id === null) return null;
        a.minid = id;
        a.strategy = 'minid';
      }
      i++;
      a.argIdx = i;
    } else if (lower === 'limit' && more > 0) {
      const n = parseInt64(argv[i + 1]!);
      if (n === null) {
        c.w.error(Err.notInteger);
        return null;
      }
      if (n < 0) {
        c.w.error('ERR The LIMIT argument must be >= 0.');
        return null;
      }
      a.limit = n;
      limitGiven = true;
      i++;
    } else if (xadd && lower === 'nomkstream') {
      a.noMkstream = true;
    } else if (xadd) {
      // Not an option: the ID (or a syntax error reported as an invalid ID).
      const p = parseStreamId(opt, 0n, true);
      if (p === null || opt === '-' || opt === '+') {
        c.w.error(ERR_INVALID_ID);
        return null;
      }
      a.id = p.id;
      a.seqGiven = p.seqGiven;
      break;
    } else {
      c.w.error(Err.syntax);
      return null;
    }
  }
  if (a.limit !== 0 && a.strategy === 'none') {
    c.w.error('ERR syntax error, LIMIT cannot be used without specifying a trimming strategy');
    return null;
  }
  if (!xadd && a.strategy === 'none') {
    c.w.error('ERR syntax error, XTRIM must be called with a trimming strategy');
    return null;
  }
  if (c.flags.master) {
    // The master (or the AOF) already rewrote the trim to be exact.
    a.limit = 0;
  } else if (limitGiven) {
    if (!a.approx) {
      c.w.error('ERR syntax error, LIMIT cannot be used without the special ~ option');
      return null;
    }
  } else {
    a.limit = a.approx ? 100 * c.server.config.int('stream-node-max-entries') : 0;
  }
  return { a, idpos: i };
}

/** streamRewriteApproxSpecifier + streamRewriteTrimArgument on a copy of argv. */
function rewriteApproxTrim(argv: string[], s: StreamValue, a: TrimArgs): void {
  argv[a.argIdx - 1] = '=';
  if (a.strategy === 'maxlen') argv[a.argIdx] = String(s.length);
  else {
    // The first entry including deleted ones (streamGetEdgeID without skipping tombstones);
    // an empty stream reports the maximal ID.
    argv[a.argIdx] = formatId(s.nodes.length === 0 ? ID_MAX : s.nodes[0]!.masterId);
  }
}

// ---------------------------------------------------------------------------------------------
// XADD

export function xaddCommand(c: Client, argv: string[]): void {
  const parsed = parseAddOrTrim(c, argv, true);
  if (parsed === null) return;
  const { a, idpos } = parsed;
  const fieldPos = idpos + 1;
  if (argv.length - fieldPos < 2 || (argv.length - fieldPos) % 2 === 1) {
    c.w.error(Err.wrongArity('xadd'));
    return;
  }
  if (a.id !== null && a.seqGiven && a.id === ID_MIN) {
    c.w.error('ERR The ID specified in XADD must be greater than 0-0');
    return;
  }
  const key = argv[1]!;
  let s = writeStream(c, key);
  if (s === null) return;
  if (s === undefined) {
    if (a.noMkstream) {
      c.w.nullBulk();
      return;
    }
    s = new StreamValue();
    c.db.add(key, s);
  }
  if (s.lastId === ID_MAX) {
    c.w.error('ERR The stream has exhausted the last possible ID, unable to add more items');
    return;
  }
  // The new ID: given, <ms>-* (next seq in that ms), or generated from the clock.
  let id: StreamId | null;
  if (a.id !== null) {
    if (a.seqGiven) id = a.id;
    else if (idMs(s.lastId) === idMs(a.id)) id = idSeq(s.lastId) === 18446744073709551615n ? null : incrId(s.lastId);
    else id = a.id;
  } else {
    const now = BigInt(Date.now());
    id = now > idMs(s.lastId) ? makeIdBig(now, 0n) : incrId(s.lastId);
  }
  if (id === null || id <= s.lastId) {
    c.w.error('ERR The ID specified in XADD is equal or smaller than the target stream top item');
    return;
  }
  const fields = argv.slice(fieldPos);
  let total = 0;
  for (const f of fields) total += f.length;
  if (total > LISTPACK_MAX_SIZE) {
    c.w.error('ERR Elements are too large to be stored');
    return;
  }
  const cfg = c.server.config;
  s.append(id, fields, nodeLimits(cfg));
  const idText = formatId(id);
  c.w.bulk(idText);
  const ks = c.server.keyspace;
  ks.changed(c.db, key, 't', 'xadd');
  const out = argv.slice();
  if (a.strategy !== 'none') {
    if (s.trim(a.strategy, a.maxlen, a.minid, a.approx, a.limit) > 0) ks.notify(c.db, key, 't', 'xtrim');
    if (a.approx) rewriteApproxTrim(out, s, a);
  }
  if (a.id === null || !a.seqGiven) out[idpos] = idText;
  c.server.propagator.rewrite(out);
  ks.signalKeyReady(c.db, key);
}

// ---------------------------------------------------------------------------------------------
// XRANGE / XREVRANGE / XLEN

function xrangeGeneric(c: Client, argv: string[], rev: boolean): void {
  const startArg = rev ? argv[3]! : argv[2]!;
  const endArg = rev ? argv[2]! : argv[3]!;
  const start = parseIntervalOrReply(c, startArg, 0n);
  if (start === null) return;
  let startId: StreamId | null = start.id;
  if (start.ex) {
    startId = incrId(start.id);
    if (startId === null) {
      c.w.error('ERR invalid start ID for the interval');
      return;
    }
  }
  const end = parseIntervalOrReply(c, endArg, 18446744073709551615n);
  if (end === null) return;
  let endId: StreamId | null = end.id;
  if (end.ex) {
    endId = decrId(end.id);
    if (endId === null) {
      c.w.error('ERR invalid end ID for the interval');
      return;
    }
  }
  let count = -1;
  for (let j = 4; j < argv.length; j++) {
    if (argv[j]!.toLowerCase() === 'count' && argv.length - j - 1 >= 1) {
      const n = parseInt64(argv[j + 1]!);
      if (n === null) {
        c.w.error(Err.notInteger);
        return;
      }
      count = n < 0 ? 0 : n;
      j++;
    } else {
      c.w.error(Err.syntax);
      return;
    }
  }
  const s = readStream(c, argv[1]!);
  if (s === null) return;
  if (s === undefined) {
    c.w.array(0);
    return;
  }
  if (count === 0) {
    c.w.nullArray();
    return;
  }
  const token = c.w.beginDeferred();
  let n = 0;
  s.range(startId, endId, rev, (id, fields) => {
    writeEntry(c, id, fields);
    return ++n !== count;
  });
  c.w.endDeferred(token, n);
}

export function xrangeCommand(c: Client, argv: string[]): void {
  xrangeGeneric(c, argv, false);
}

export function xrevrangeCommand(c: Client, argv: string[]): void {
  xrangeGeneric(c, argv, true);
}

export function xlenCommand(c: Client, argv: string[]): void {
  const s = readStream(c, argv[1]!);
  if (s === null) return;
  c.w.int(s === undefined ? 0 : s.length);
}

// ---------------------------------------------------------------------------------------------
// XDEL / XTRIM

export function xdelCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const s = writeStream(c, key);
  if (s === null) return;
  if (s === undefined) {
    c.w.int(0);
    return;
  }
  // Every ID is checked first: a bad one must not leave the command half done.
  const ids: StreamId[] = [];
  for (let j = 2; j < argv.length; j++) {
    const id = parseIdOrReply(c, argv[j]!, 0n, true);
    if (id === null) return;
    ids.push(id);
  }
  let deleted = 0;
  for (const id of ids) {
    if (s.delete(id)) {
      if (id > s.maxDeletedId) s.maxDeletedId = id;
      deleted++;
    }
  }
  if (deleted > 0) c.server.keyspace.changed(c.db, key, 't', 'xdel', deleted);
  c.w.int(deleted);
}

export function xtrimCommand(c: Client, argv: string[]): void {
  const parsed = parseAddOrTrim(c, argv, false);
  if (parsed === null) return;
  const { a } = parsed;
  const key = argv[1]!;
  const s = writeStream(c, key);
  if (s === null) return;
  if (s === undefined) {
    c.w.int(0);
    return;
  }
  const deleted = s.trim(a.strategy as 'maxlen' | 'minid', a.maxlen, a.minid, a.approx, a.limit);
  if (deleted > 0) {
    c.server.keyspace.changed(c.db, key, 't', 'xtrim', deleted);
    if (a.approx) {
      const out = argv.slice();
      rewriteApproxTrim(out, s, a);
      c.server.propagator.rewrite(out);
    }
  }
  c.w.int(deleted);
}

// ---------------------------------------------------------------------------------------------
// XSETID

export function xsetidCommand(c: Client, argv: string[]): void {
  const id = parseIdOrReply(c, argv[2]!, 0n, true);
  if (id === null) return;
  let entriesAdded = -1;
  let maxDeleted = ID_MIN;
  for (let i = 3; i < argv.length; i += 2) {
    const more = argv.length - 1 - i;
    const opt = argv[i]!.toLowerCase();
    if (opt === 'entriesadded' && more > 0) {
      const n = parseInt64(argv[i + 1]!);
      if (n === null) {
        c.w.error(Err.notInteger);
        return;
      }
      if (n < 0) {
        c.w.error('ERR entries_added must be positive');
        return;
      }
      entriesAdded = n;
    } else if (opt === 'maxdeletedid' && more > 0) {
      const m = parseIdOrReply(c, argv[i + 1]!, 0n, true);
      if (m === null) return;
      if (id < m) {
        c.w.error('ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id');
        return;
      }
      maxDeleted = m;
    } else {
      c.w.error(Err.syntax);
      return;
    }
  }
  const key = argv[1]!;
  const s = writeStream(c, key);
  if (s === null) return;
  if (s === undefined) {
    c.w.error(Err.noSuchKey);
    return;
  }
  if (s.length > 0) {
    if (id < s.lastLiveId()) {
      c.w.error('ERR The ID specified in XSETID is smaller than the target stream top item');
      return;
    }
    if (entriesAdded !== -1 && s.length > entriesAdded) {
      c.w.error('ERR The entries_added specified in XSETID is smaller than the target stream length');
      return;
    }
  }
  s.lastId = id;
  if (entriesAdded !== -1) s.entriesAdded = entriesAdded;
  if (maxDeleted !== ID_MIN) s.maxDeletedId = maxDeleted;
  c.w.ok();
  // Redis counts the change and notifies, but does not signal the key as modified (WATCH).
  const ks = c.server.keyspace;
  ks.dirty++;
  ks.notify(c.db, key, 't', 'xsetid');
}
