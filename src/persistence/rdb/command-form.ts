/**
 * The dataset as RESP commands: the AOF base written with `aof-use-rdb-preamble no`
 * (Redis's rewriteAppendOnlyFileRio, aof.md §4.1). Used by the snapshot with
 * `format: 'commands'`, so BGREWRITEAOF gets the same point-in-time guarantee as BGSAVE.
 *
 *   string → SET k v           list → RPUSH k e… (64 items per command)
 *   set    → SADD k m…         zset → ZADD k score member… (score as %.17g)
 *   hash   → HMSET k f v…      stream → XADD… / XSETID / XGROUP CREATE / CREATECONSUMER / XCLAIM
 * followed by PEXPIREAT k <ms> when the key has a TTL.
 */
import type { Value } from '../../types/value.js';
import type { StreamValue } from '../../types/stream.js';
import { formatId, makeId } from '../../types/stream.js';
import { formatG17 } from '../../util/numbers.js';
import type { RdbOut } from './out.js';

/** AOF_REWRITE_ITEMS_PER_CMD */
const ITEMS_PER_CMD = 64;

function header(out: RdbOut, argc: number): void {
  out.rawString(`*${argc}\r\n`);
}

function bulk(out: RdbOut, s: string): void {
  out.rawString(`$${s.length}\r\n`);
  out.rawString(s);
  out.rawString('\r\n');
}

function command(out: RdbOut, args: readonly string[]): void {
  header(out, args.length);
  for (const a of args) bulk(out, a);
}

export function writeSelectCommand(out: RdbOut, db: number): void {
  command(out, ['SELECT', String(db)]);
}

/** Emits `name key` followed by items in batches of 64 (pairs count as `per` bulks each). */
function batched(out: RdbOut, name: string, key: string, items: Iterable<readonly string[]>, total: number, per: number): void {
  let left = total;
  let inCmd = 0;
  for (const it of items) {
    if (inCmd === 0) {
      const n = Math.min(left, ITEMS_PER_CMD);
      header(out, 2 + n * per);
      bulk(out, name);
      bulk(out, key);
    }
    for (const s of it) bulk(out, s);
    left--;
    if (++inCmd === ITEMS_PER_CMD) inCmd = 0;
  }
}

function* singles(it: Iterable<string>): IterableIterator<readonly string[]> {
  for (const s of it) yield [s];
}

function* zsetPairs(it: Iterable<[string, number]>): IterableIterator<readonly string[]> {
  for (const [m, score] of it) yield [formatG17(score), m];
}

export function writeKeyCommands(out: RdbOut, key: string, v: Value, expireMs: number | undefined): void {
  if (typeof v === 'string') {
    command(out, ['SET', key, v]);
  } else {
    switch (v.type) {
      case 'list':
        batched(out, 'RPUSH', key, singles(v.items()), v.length, 1);
        break;
      case 'set':
        batched(out, 'SADD', key, singles(v.members()), v.size, 1);
        break;
      case 'zset':
        batched(out, 'ZADD', key, zsetPairs(v.entries()), v.size, 2);
        break;
      case 'hash':
        batched(out, 'HMSET', key, v.entries(), v.size, 2);
        break;
      case 'stream':
        writeStreamCommands(out, key, v as StreamValue);
        break;
    }
  }
  if (expireMs !== undefined) command(out, ['PEXPIREAT', key, String(expireMs)]);
}

function writeStreamCommands(out: RdbOut, key: string, s: StreamValue): void {
  if (s.length > 0) {
    for (const [id, fields] of s.entries()) command(out, ['XADD', key, formatId(id), ...fields]);
  } else {
    // The XADD MAXLEN 0 trick creates an empty stream.
    command(out, ['XADD', key, 'MAXLEN', '0', formatId(makeId(0, 1)), 'x', 'y']);
  }
  command(out, ['XSETID', key, formatId(s.lastId), 'ENTRIESADDED', String(s.entriesAdded), 'MAXDELETEDID', formatId(s.maxDeletedId)]);
  for (const g of s.sortedGroups()) {
    command(out, ['XGROUP', 'CREATE', key, g.name, formatId(g.lastId), 'ENTRIESREAD', String(g.entriesRead)]);
    for (const c of g.sortedConsumers()) {
      if (c.pel.size === 0) {
        command(out, ['XGROUP', 'CREATECONSUMER', key, g.name, c.name]);
        continue;
      }
      c.pel.forEach((id, _score, nack) => {
        command(out, [
          'XCLAIM', key, g.name, c.name, '0', formatId(id),
          'TIME', String(nack.deliveryTime), 'RETRYCOUNT', String(nack.deliveryCount), 'JUSTID', 'FORCE',
        ]);
      });
    }
  }
}
