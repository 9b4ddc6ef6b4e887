/**
 * AOF base files.
 *
 * RDB form (aof-use-rdb-preamble yes): a normal RDB with aux aof-base=1, written by the RDB
 * codec (the fork-less snapshot for rewrites, writeRdbSync for the base created at startup).
 *
 * Command form (aof-use-rdb-preamble no), Redis 7.0's rewriteAppendOnlyFileRio (aof.md §4.1):
 * per non-empty database `SELECT <db>`, then per key one or more commands — collections in
 * batches of 64 items (AOF_REWRITE_ITEMS_PER_CMD) — then `PEXPIREAT key <ms>` for a TTL:
 *
 *   string  SET key value                 hash  HMSET key f v … (64 pairs)
 *   list    RPUSH key e … (64)            zset  ZADD key score member … (64, score %.17g)
 *   set     SADD key m … (64)             stream  XADD per entry (or XADD MAXLEN 0 0-1 x y when
 *           empty), XSETID … ENTRIESADDED … MAXDELETEDID …, XGROUP CREATE … ENTRIESREAD …, and
 *           per consumer XGROUP CREATECONSUMER (no pending entries) or one XCLAIM … TIME …
 *           RETRYCOUNT … JUSTID FORCE per pending entry.
 *
 * A rewrite must capture the dataset at one point in time while commands keep running. Rather
 * than a second snapshot mechanism, the command form is produced from the fork-less RDB
 * snapshot itself: `commandBaseSink` decodes the RDB stream as it is produced into scratch
 * databases and turns each decoded key into commands at once (then drops it), so memory stays
 * bounded by what is in flight. Functions do not exist in Mirra, so no FUNCTION LOAD is written.
 */
import fs from 'node:fs';
import type { Server } from '../../server/server.js';
import type { Value } from '../../types/value.js';
import type { StreamValue } from '../../types/stream.js';
import { formatId, ID_MIN, ID_MAX } from '../../types/stream.js';
import { Keyspace } from '../../keyspace/keyspace.js';
import { encodeCommand } from '../../protocol/encode.js';
import { formatG17 } from '../../util/numbers.js';
import { RdbLoader, writeRdbSync, type SnapshotSink } from '../rdb/index.js';

/** Redis's AOF_REWRITE_ITEMS_PER_CMD. */
export const ITEMS_PER_CMD = 64;

/** `#TS:<unix seconds>\r\n` (aof-timestamp-enabled). */
export function timestampAnnotation(unixSeconds: number): Buffer {
  return Buffer.from(`#TS:${unixSeconds}\r\n`, 'latin1');
}

/** Accumulates the command form of keys; `take()` hands out what was produced so far. */
export class CommandBaseWriter {
  private chunks: Buffer[] = [];
  length = 0;
  private db = -1;

  private cmd(argv: string[]): void {
    const b = encodeCommand(argv);
    this.chunks.push(b);
    this.length += b.length;
  }

  raw(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }

  /** Writes one key (preceded by SELECT when the database changes). */
  key(dbIndex: number, key: string, v: Value, expire: number | undefined): void {
    if (dbIndex !== this.db) {
      this.cmd(['SELECT', String(dbIndex)]);
      this.db = dbIndex;
    }
    if (typeof v === 'string') {
      this.cmd(['SET', key, v]);
    } else {
      switch (v.type) {
        case 'list':
          this.batched('RPUSH', key, v.items(), (e, out) => out.push(e));
          break;
        case 'set':
          this.batched('SADD', key, v.members(), (m, out) => out.push(m));
          break;
        case 'zset':
          this.batched('ZADD', key, v.entries(), ([m, score], out) => out.push(formatG17(score), m));
          break;
        case 'hash':
          this.batched('HMSET', key, v.entries(), ([f, val], out) => out.push(f, val));
          break;
        case 'stream':
          this.stream(key, v);
          break;
      }
    }
    if (expire !== undefined) this.cmd(['PEXPIREAT', key, String(expire)]);
  }

  /** `name key item…` commands of at most ITEMS_PER_CMD items each. */
  private batched<T>(name: string, key: string, items: Iterable<T>, push: (item: T, out: string[]) => void): void {
    let argv: string[] = [name, key];
    let count = 0;
    for (const it of items) {
      push(it, argv);
      if (++count === ITEMS_PER_CMD) {
        this.cmd(argv);
        argv = [name, key];
        count = 0;
      }
    }
    if (count > 0) this.cmd(argv);
  }

  /** rewriteStreamObject. */
  private stream(key: string, s: StreamValue): void {
    if (s.length > 0) {
      s.range(ID_MIN, ID_MAX, false, (id, fields) => {
        this.cmd(['XADD', key, formatId(id), ...fields]);
      });
    } else {
      // The XADD MAXLEN 0 trick creates an empty stream; XSETID then restores the real ids.
      this.cmd(['XADD', key, 'MAXLEN', '0', '0-1', 'x', 'y']);
    }
    this.cmd(['XSETID', key, formatId(s.lastId), 'ENTRIESADDED', String(s.entriesAdded), 'MAXDELETEDID', formatId(s.maxDeletedId)]);
    for (const g of s.sortedGroups()) {
      this.cmd(['XGROUP', 'CREATE', key, g.name, formatId(g.lastId), 'ENTRIESREAD', String(g.entriesRead)]);
      for (const c of g.sortedConsumers()) {
        if (c.pel.size === 0) {
          this.cmd(['XGROUP', 'CREATECONSUMER', key, g.name, c.name]);
          continue;
        }
        c.pel.forEach((id, _score, nack) => {
          this.cmd([
            'XCLAIM', key, g.name, c.name, '0', formatId(id),
            'TIME', String(nack.deliveryTime), 'RETRYCOUNT', String(nack.deliveryCount), 'JUSTID', 'FORCE',
          ]);
        });
      }
    }
  }

  take(): Buffer {
    const out = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    this.chunks = [];
    this.length = 0;
    return out;
  }
}

/**
 * Writes the current dataset as a base file into `fd`, synchronously (the base Redis creates
 * on a first start with appendonly yes, from a dataset that is empty then). Returns the bytes.
 */
export function writeBaseSync(server: Server, fd: number, rdbFormat: boolean): number {
  if (rdbFormat) return writeRdbSync(server, fd, { aofBase: true });
  const w = new CommandBaseWriter();
  let bytes = 0;
  const flush = (): void => {
    const b = w.take();
    let off = 0;
    while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off);
    bytes += b.length;
  };
  if (server.config.bool('aof-timestamp-enabled')) w.raw(timestampAnnotation(Math.floor(Date.now() / 1000)));
  for (const db of server.keyspace.dbs) {
    for (const [k, v] of db.dict) {
      w.key(db.id, k, v, db.expires.size === 0 ? undefined : db.expires.get(k));
      if (w.length >= 1 << 20) flush();
    }
  }
  flush();
  return bytes;
}

/**
 * A snapshot sink that turns the RDB stream into the command form and passes it to `out`.
 * The RDB is decoded into scratch databases key by key; each decoded key is written as
 * commands and dropped. Never throws (sink contract): a decoding error is kept in `error`,
 * later chunks are ignored and `out` is still ended.
 */
export function commandBaseSink(server: Server, out: SnapshotSink): SnapshotSink & { readonly error: Error | null } {
  const scratch = new Keyspace(server.config.int('databases'), {
    now: () => Date.now(),
    mayExpire: () => false,
    onExpired: () => {},
  });
  // Keys already expired are kept, like everything else in a base: they expire after loading.
  const loader = new RdbLoader(scratch.dbs, { isMaster: false, now: () => Date.now(), config: server.config });
  const writer = new CommandBaseWriter();
  let error: Error | null = null;
  if (server.config.bool('aof-timestamp-enabled')) writer.raw(timestampAnnotation(Math.floor(Date.now() / 1000)));

  const drain = (): boolean => {
    for (const db of scratch.dbs) {
      if (db.dict.size === 0) continue;
      for (const [k, v] of db.dict) writer.key(db.id, k, v, db.expires.size === 0 ? undefined : db.expires.get(k));
      db.clear();
    }
    return writer.length === 0 ? true : out.write(writer.take());
  };

  return {
    get error() {
      return error;
    },
    write(chunk: Buffer): boolean {
      if (error !== null) return true;
      try {
        loader.feed(chunk);
        return drain();
      } catch (e) {
        error = e as Error;
        return true;
      }
    },
    onDrain(cb: () => void): void {
      out.onDrain(cb);
    },
    end(): void {
      if (error === null) {
        try {
          loader.end();
          drain();
        } catch (e) {
          error = e as Error;
        }
      }
      out.end();
    },
  };
}
