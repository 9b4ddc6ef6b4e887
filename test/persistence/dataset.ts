/**
 * Test helpers for persistence: build values of every type/encoding, a canonical text form of
 * a whole dataset (to compare two keyspaces), and an in-process Server to snapshot from.
 */
import type { Server } from '../../src/server/server.js';
import { Keyspace } from '../../src/keyspace/keyspace.js';
import { Logger } from '../../src/server/logger.js';
import { Config } from '../../src/config/config.js';
import type { Db } from '../../src/keyspace/db.js';
import type { Value } from '../../src/types/value.js';
import { ListValue } from '../../src/types/list.js';
import { HashValue } from '../../src/types/hash.js';
import { SetValue } from '../../src/types/set.js';
import { ZSetValue } from '../../src/types/zset.js';
import { StreamValue, makeId, formatId } from '../../src/types/stream.js';
import { formatG17 } from '../../src/util/numbers.js';
import { RdbLoader, memorySink, startSnapshot, type SnapshotSink } from '../../src/persistence/rdb/index.js';

/**
 * The parts of a Server the RDB code uses (keyspace, config, logger, repl role, loading flag),
 * without the command table, so these tests do not depend on every command module.
 */
export function newServer(): Server {
  const config = new Config();
  const keyspace = new Keyspace(config.int('databases'), { now: () => Date.now(), mayExpire: () => true, onExpired: () => {} });
  const logger = new Logger();
  logger.level = 'nothing';
  return { config, keyspace, logger, repl: { isReplica: false }, persistence: { loading: false } } as unknown as Server;
}

/** One value of every type and encoding Redis 7.0 writes, plus edge cases. */
export function everyEncoding(cfg: Config): [string, Value, number?][] {
  const st = new StreamValue();
  st.appendLoaded(makeId(1, 1), ['a', '1', 'b', '2']);
  st.appendLoaded(makeId(1, 2), ['a', '3', 'b', '4']);
  st.appendLoaded(makeId(2, 0), ['c', '5']);
  for (let i = 0; i < 250; i++) st.appendLoaded(makeId(10 + i, i), ['f', String(i), 'g', 'x'.repeat(i % 40)]);
  st.lastId = makeId(300, 7);
  st.entriesAdded = 260;
  st.maxDeletedId = makeId(5, 5);
  const g = st.createGroup('g1', makeId(2, 0), 3)!;
  g.addPending(makeId(1, 1), 1000, 2);
  g.addPending(makeId(1, 2), 2000, 1);
  const alice = g.createConsumer('alice', 5000);
  const bob = g.createConsumer('bob', 6000);
  g.assignPending(alice, makeId(1, 1));
  g.assignPending(bob, makeId(1, 2));
  st.createGroup('g0', makeId(0, 0), -1)!.createConsumer('idle', 7);
  const empty = new StreamValue();
  empty.lastId = makeId(9, 9);
  empty.entriesAdded = 4;
  const bigId = new StreamValue();
  bigId.appendLoaded(makeId(2 ** 40, 2 ** 52), ['k', 'v']);
  bigId.lastId = makeId(2 ** 40, 2 ** 52);
  bigId.entriesAdded = 1;
  return [
    ['str', 'hello'],
    ['int8', '-12'],
    ['int16', '1234'],
    ['int32', '-2000000000'],
    ['int64text', '9223372036854775807'],
    ['lzf', 'abc'.repeat(100)],
    ['binary', '\x00\xff\r\n\x80 bytes'],
    ['empty-string', ''],
    ['expiring', 'soon', 4102444800000],
    ['list-small', ListValue.from(['a', 'b', '1', '-300000', '9223372036854775807'], cfg)],
    ['list-big', ListValue.from(Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? String(i) : `item-${i}-${'z'.repeat(i % 90)}`)), cfg)],
    ['set-intset', SetValue.from(['1', '2', '-100', '70000', '9223372036854775807'], cfg)],
    ['set-hashtable', SetValue.from(['a', 'b', 'c', '1'], cfg)],
    ['set-big-ints', SetValue.from(Array.from({ length: 600 }, (_, i) => String(i * 3)), cfg)],
    ['hash-listpack', HashValue.from([['f', 'v'], ['n', '12'], ['e', '']], cfg)],
    ['hash-long-value', HashValue.from([['f', 'v'.repeat(65)]], cfg)],
    ['hash-hashtable', HashValue.from(Array.from({ length: 600 }, (_, i) => [`f${i}`, `v${i}`] as [string, string]), cfg)],
    ['zset-listpack', ZSetValue.from([['m', 1.5], ['n', 0.1], ['o', -Infinity], ['p', Infinity], ['q', -0], ['r', 3]], cfg)],
    ['zset-skiplist', ZSetValue.from(Array.from({ length: 200 }, (_, i) => [`m${i}`, i / 7 - 10] as [string, number]), cfg)],
    ['stream', st],
    ['stream-empty', empty],
    ['stream-big-ids', bigId],
  ];
}

export function fill(db: Db, items: [string, Value, number?][]): void {
  for (const [k, v, exp] of items) {
    db.add(k, v);
    if (exp !== undefined) db.expires.set(k, exp);
  }
}

function canonValue(v: Value): string {
  if (typeof v === 'string') return `string:${JSON.stringify(v)}`;
  switch (v.type) {
    case 'list':
      return `list:${v.encoding}:${JSON.stringify([...v.items()])}`;
    case 'set':
      return `set:${v.encoding}:${JSON.stringify([...v.members()].sort())}`;
    case 'hash':
      return `hash:${v.encoding}:${JSON.stringify([...v.entries()].sort())}`;
    case 'zset':
      return `zset:${v.encoding}:${JSON.stringify([...v.entries()].map(([m, s]) => [m, formatG17(s)]))}`;
    case 'stream': {
      const groups = v.sortedGroups().map((g) => {
        const pel: string[] = [];
        g.pel.forEach((id, _s, n) => {
          pel.push(`${formatId(id)}@${n.deliveryTime}x${n.deliveryCount}:${n.consumer?.name}`);
        });
        return [g.name, formatId(g.lastId), g.entriesRead, pel, g.sortedConsumers().map((c) => [c.name, c.seenTime, c.pel.size])];
      });
      return `stream:${JSON.stringify({
        e: [...v.entries()].map(([id, f]) => [formatId(id), f]),
        len: v.length,
        last: formatId(v.lastId),
        first: formatId(v.firstId),
        maxdel: formatId(v.maxDeletedId),
        added: v.entriesAdded,
        groups,
      })}`;
    }
  }
}

/** A canonical, order-independent text form of every non-empty database. */
export function canonical(dbs: readonly Db[]): string {
  const out: string[] = [];
  dbs.forEach((db, i) => {
    if (db.dict.size === 0) return;
    const keys = [...db.dict.keys()].sort();
    for (const k of keys) out.push(`${i} ${JSON.stringify(k)} ${db.expires.get(k) ?? '-'} ${canonValue(db.dict.get(k)!)}`);
  });
  return out.join('\n');
}

/** Snapshot of a server into memory (the fork-less path). */
export async function snapshotToBuffer(server: Server, sinks: SnapshotSink[] = []): Promise<Buffer> {
  const sink = memorySink();
  const snap = startSnapshot(server, [sink, ...sinks], {});
  await snap.done;
  return sink.buffer();
}

/** Loads `buf` into a fresh server, feeding it in chunks of the given size. */
export function loadInto(buf: Buffer, chunk = buf.length, isMaster = true): Server {
  const s = newServer();
  const l = new RdbLoader(s.keyspace.dbs, { isMaster, now: () => Date.now(), config: s.config });
  for (let i = 0; i < buf.length; i += chunk) l.feed(buf.subarray(i, i + chunk));
  l.end();
  return s;
}
