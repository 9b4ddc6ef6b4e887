/**
 * The fork-less snapshot is point-in-time: whatever commands do while it runs (overwrite,
 * delete, expire changes, in-place mutation, new keys, FLUSHDB, SWAPDB), the output loads as
 * exactly the dataset of the moment it started. Also: backpressure, cancel, one at a time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonical, everyEncoding, fill, loadInto, newServer } from './dataset.js';
import { startSnapshot, memorySink, currentSnapshot, type SnapshotSink } from '../../src/persistence/rdb/index.js';
import { ListValue } from '../../src/types/list.js';
import { HashValue } from '../../src/types/hash.js';
import type { Server } from '../../src/server/server.js';

function populate(s: Server, n: number): void {
  const [db0, db1, db2] = s.keyspace.dbs as [typeof s.keyspace.dbs[0], typeof s.keyspace.dbs[0], typeof s.keyspace.dbs[0]];
  for (let i = 0; i < n; i++) {
    db0.add(`k:${i}`, `v:${i}`);
    if (i % 10 === 0) db0.expires.set(`k:${i}`, 4102444800000 + i);
    if (i % 50 === 0) db0.add(`l:${i}`, ListValue.from([`a${i}`, `b${i}`], s.config));
    if (i % 3 === 0) db1.add(`one:${i}`, `x${i}`);
    if (i % 4 === 0) db2.add(`two:${i}`, HashValue.from([['f', String(i)]], s.config));
  }
  fill(db0, everyEncoding(s.config));
}

/** A sink that refuses every other chunk until the next turn, to exercise backpressure. */
function slowSink(): SnapshotSink & { buffer: () => Buffer } {
  const chunks: Buffer[] = [];
  let n = 0;
  let waiting: (() => void) | null = null;
  return {
    write(c) {
      chunks.push(c);
      if (++n % 2 === 0) return true;
      setTimeout(() => {
        const w = waiting;
        waiting = null;
        w?.();
      }, 1);
      return false;
    },
    onDrain(cb) {
      waiting = cb;
    },
    end() {},
    buffer: () => Buffer.concat(chunks),
  };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('point in time under concurrent writes, FLUSHDB and SWAPDB', async () => {
  const s = newServer();
  populate(s, 30000);
  const want = canonical(s.keyspace.dbs);
  const mem = memorySink();
  const slow = slowSink();
  const snap = startSnapshot(s, [mem, slow], {});
  assert.equal(currentSnapshot(s), snap);
  assert.throws(() => startSnapshot(s, [memorySink()], {}), /already in progress/);
  const [db0, db1, db2, db3] = s.keyspace.dbs as [typeof s.keyspace.dbs[0], typeof s.keyspace.dbs[0], typeof s.keyspace.dbs[0], typeof s.keyspace.dbs[0]];
  let round = 0;
  while (snap.active) {
    round++;
    for (let j = 0; j < 50; j++) {
      const i = (round * 977 + j * 131) % 30000;
      switch (j % 8) {
        case 0:
          db0.set(`k:${i}`, `changed-${round}`);
          break;
        case 1:
          db0.delete(`k:${i}`);
          break;
        case 2:
          db0.setExpire(`k:${i}`, 5000000000000);
          break;
        case 3:
          db0.removeExpire(`k:${i}`);
          break;
        case 4: {
          const l = db0.lookupWrite(`l:${i - (i % 50)}`);
          if (l instanceof ListValue) l.pushTail(`pushed-${round}`);
          break;
        }
        case 5:
          // A new key, then modified again: still not part of the snapshot.
          if (!db0.dict.has(`new:${round}:${j}`)) {
            db0.add(`new:${round}:${j}`, 'n');
            db0.setExpire(`new:${round}:${j}`, 4102444800000);
            db0.set(`new:${round}:${j}`, 'n2', true);
          }
          break;
        case 6:
          db3.add(`late:${round}:${j}`, 'x'); // a DB that was empty at the start
          break;
        case 7:
          db0.delete(`k:${i}`);
          db0.add(`k:${i}`, 'recreated'); // deleted then re-created
          break;
      }
    }
    if (round === 3) {
      s.keyspace.signalDbsChanged([db1, db2], [db2, db1]);
      db1.swapContents(db2);
      db1.set('one:3', 'after-swap');
    }
    if (round === 5) {
      s.keyspace.signalDbsChanged([db1]);
      db1.clear();
      db1.add('after-flush', '1');
    }
    await turn();
  }
  const { bytes } = await snap.done;
  assert.ok(round > 5, `the snapshot should span several turns (rounds: ${round})`);
  assert.equal(s.keyspace.beforeWrite, null);
  assert.equal(currentSnapshot(s), null);
  const out = mem.buffer();
  assert.equal(out.length, bytes);
  assert.deepEqual(slow.buffer(), out);
  assert.equal(canonical(loadInto(out, 65536).keyspace.dbs), want);
});

test('FLUSHDB before the capture finished, and flush of every DB', async () => {
  const s = newServer();
  populate(s, 5000);
  const want = canonical(s.keyspace.dbs);
  const mem = memorySink();
  const snap = startSnapshot(s, [mem], {});
  for (const db of s.keyspace.dbs) db.clear();
  s.keyspace.dbs[0]!.add('k:1', 'new after flush');
  await snap.done;
  assert.equal(canonical(loadInto(mem.buffer()).keyspace.dbs), want);
});

test('cancel removes the hooks and rejects done; an empty dataset snapshots fine', async () => {
  const s = newServer();
  populate(s, 20000);
  const snap = startSnapshot(s, [memorySink()], {});
  snap.cancel('replica gone');
  await assert.rejects(snap.done, /replica gone/);
  assert.equal(s.keyspace.beforeWrite, null);
  assert.equal(snap.active, false);
  const empty = newServer();
  const mem = memorySink();
  await startSnapshot(empty, [mem], { aux: [['repl-stream-db', '0'], ['repl-id', 'a'.repeat(40)], ['repl-offset', '123']], aofBase: true }).done;
  const l = loadInto(mem.buffer());
  assert.equal(canonical(l.keyspace.dbs), '');
  assert.ok(mem.ended);
});
