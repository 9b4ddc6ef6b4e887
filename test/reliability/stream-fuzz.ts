/**
 * The harness of the replica stream fuzz: one Mirra replica whose master is a scripted fake
 * master in this process, and a real redis-server used as the oracle (the same RDB loaded with
 * DEBUG RELOAD, the same commands replayed as a client, then DEBUG DIGEST compared).
 *
 * Every case starts from a "ready" link: the replica connected, did its handshake and sent
 * PSYNC, and waits for the answer. A case answers with a full sync (valid, or mutated), maybe
 * sends a mutated stream, and ends with the replica's next connection ready again — so cases
 * are independent of each other and fast-check may replay or shrink them in any order.
 */
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startMirra, startRedis, type ServerHandle } from '../helpers/servers.js';
import { waitFor, sleep } from '../helpers/wait.js';
import { Resp } from '../replication/resilience-helpers.js';
import { FakeMaster, type FakeConn, buildRdb } from '../replication/replica-fake-master.js';
import { client, closeClients, writeDataset } from '../persistence/aof-dataset.js';
import { Probe, alive, rssKb, tempFiles } from './moments.js';
import { encodeAll, cut, flipRdb, type SyncPlan, type StreamMutation, type PayloadMutation } from './stream-gen.js';

export interface Ready {
  conn: FakeConn;
  psync: string[];
}

/** Runs per property: MIRRA_FUZZ_RUNS (default `ci`). */
export function fuzzRuns(ci: number): number {
  const n = Number(process.env.MIRRA_FUZZ_RUNS ?? ci);
  return Number.isInteger(n) && n > 0 ? n : ci;
}

export function fuzzSeed(): number | undefined {
  const s = process.env.MIRRA_FUZZ_SEED;
  return s === undefined ? undefined : Number(s);
}

export class StreamFuzz {
  ready: Ready | null = null;
  rssBaseKb = 0;
  rssMaxKb = 0;
  /** The oracle's dump of a dataset with every type and encoding (payload source 'rich'). */
  richRdb: Buffer = Buffer.alloc(0);
  /** Counters for the report. */
  readonly stats = new Map<string, number>();
  private oracleConn!: Resp;

  private constructor(
    readonly fm: FakeMaster,
    readonly replica: ServerHandle,
    readonly oracle: ServerHandle,
    readonly probe: Probe,
  ) {}

  static async start(): Promise<StreamFuzz> {
    const fm = await FakeMaster.start();
    const replica = await startMirra({ args: ['--replicaof', '127.0.0.1', String(fm.port), '--repl-timeout', '60'] });
    const oracle = await startRedis({ args: ['--sanitize-dump-payload', 'yes'] });
    const f = new StreamFuzz(fm, replica, oracle, await Probe.open(replica.port));
    f.oracleConn = await Resp.open(oracle.port);
    await writeDataset(oracle.port, 'a');
    const c = client(oracle.port);
    await c.set('big:string', 'x'.repeat(100000));
    await c.rpush('big:list', ...Array.from({ length: 300 }, (_, i) => `item-${i}`.repeat(5)));
    await c.save();
    closeClients();
    f.richRdb = fs.readFileSync(path.join(oracle.dir, 'dump.rdb'));
    f.rssBaseKb = rssKb(replica.pid);
    f.rssMaxKb = f.rssBaseKb;
    return f;
  }

  async stop(): Promise<void> {
    this.probe.close();
    this.oracleConn.close();
    this.fm.close();
    await this.replica.stop();
    await this.oracle.stop();
  }

  count(what: string): void {
    this.stats.set(what, (this.stats.get(what) ?? 0) + 1);
  }

  /** The replica's next connection that gets as far as PSYNC. */
  async nextReady(timeoutMs = 8000): Promise<Ready> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('the replica did not reconnect with a PSYNC in time');
      const conn = await this.fm.nextConn(left);
      if (conn.closed) continue;
      try {
        const hs = await conn.acceptHandshake();
        return { conn, psync: hs.psync };
      } catch {
        conn.close();
      }
    }
  }

  /** The ready link, waiting for one when a previous case ended abnormally. */
  async takeReady(): Promise<Ready> {
    const r = this.ready;
    this.ready = null;
    if (r !== null && !r.conn.closed) return r;
    // A case ended abnormally: drop whatever link is open so the replica starts over.
    for (const c of this.fm.conns) if (!c.closed) c.close();
    return this.nextReady();
  }

  /** Checks the replica is alive, answers, and keeps its memory bounded. */
  async checkHealthy(boundKb: number): Promise<void> {
    assert.ok(alive(this.replica), `the replica died:\n${this.replica.log().slice(-3000)}`);
    assert.equal(await this.probe.call('PING'), 'PONG');
    const rss = rssKb(this.replica.pid);
    this.rssMaxKb = Math.max(this.rssMaxKb, rss);
    assert.ok(rss - this.rssBaseKb < boundKb, `RSS grew by ${rss - this.rssBaseKb} KB (bound ${boundKb} KB)`);
  }

  async replInfo(): Promise<Record<string, string>> {
    return this.probe.info('replication');
  }

  // -----------------------------------------------------------------------------------------
  // Valid full sync + stream

  rdbOf(plan: { source: 'strings' | 'rich'; strings: [number, string, string, number | undefined][]; streamDb?: number | undefined }): Buffer {
    if (plan.source === 'rich') return this.richRdb;
    const dbs: Record<number, [string, string, number?][]> = {};
    const seen = new Set<string>();
    for (const [db, k, v, exp] of plan.strings) {
      if (seen.has(`${db}/${k}`)) continue;
      seen.add(`${db}/${k}`);
      (dbs[db] ??= []).push(exp === undefined ? [k, v] : [k, v, exp]);
    }
    return buildRdb(dbs, plan.streamDb !== undefined ? { 'repl-stream-db': String(plan.streamDb) } : {});
  }

  /** The bytes the fake master sends for a full sync (reply, payload) followed by `stream`. */
  static syncBytes(plan: Pick<SyncPlan, 'replid' | 'offset' | 'framing' | 'keepalive'>, rdb: Buffer, stream: Buffer): Buffer {
    const ka = plan.keepalive ? '\n' : '';
    const head = Buffer.from(`${ka}+FULLRESYNC ${plan.replid} ${plan.offset}\r\n${ka}`, 'latin1');
    if (plan.framing === 'len') return Buffer.concat([head, Buffer.from(`$${rdb.length}\r\n`), rdb, stream]);
    const mark = Buffer.from(plan.replid.split('').reverse().join(''), 'latin1');
    return Buffer.concat([head, Buffer.from(`$EOF:${mark.toString('latin1')}\r\n`), rdb, mark, stream]);
  }

  /** Writes pieces with a short gap so that each tends to arrive as its own read. */
  static async writePieces(conn: FakeConn, pieces: Buffer[]): Promise<void> {
    for (const p of pieces) {
      conn.write(p);
      await sleep(1);
    }
  }

  /**
   * Makes the oracle hold what the replica should hold: the same RDB (DEBUG RELOAD NOSAVE),
   * then the stream replayed as a client from the stream's initial DB.
   */
  async oracleApply(rdb: Buffer, initialDb: number, cmds: string[][]): Promise<void> {
    fs.writeFileSync(path.join(this.oracle.dir, 'dump.rdb'), rdb);
    const o = this.oracleConn;
    const r = await o.call('DEBUG', 'RELOAD', 'NOSAVE');
    assert.equal(r, 'OK', `oracle reload: ${String(r)}`);
    const replies: Promise<unknown>[] = [o.call('SELECT', String(initialDb))];
    for (const c of cmds) if (c[0] !== 'REPLCONF') replies.push(o.call(...c));
    await Promise.all(replies);
  }

  async oracleDigest(): Promise<string> {
    return String(await this.oracleConn.call('DEBUG', 'DIGEST'));
  }

  /**
   * Answers the ready link with a valid full sync followed by the plan's stream, split at the
   * plan's cut points; checks offsets and the dataset against the oracle. Returns the link, in
   * sync at `offset + stream length`.
   */
  async validSync(plan: SyncPlan, r: Ready): Promise<{ conn: FakeConn; end: number }> {
    const rdb = this.rdbOf(plan);
    // Without a repl-stream-db field the master client starts in DB 0, and so does the stream.
    const initialDb = plan.source === 'strings' && plan.streamDb !== undefined ? plan.streamDb : 0;
    const stream = encodeAll(plan.commands);
    if (plan.framing === 'len') {
      // A disk-based master may send stream bytes right behind the payload.
      await StreamFuzz.writePieces(r.conn, cut(StreamFuzz.syncBytes(plan, rdb, stream), plan.cuts));
    } else {
      // A diskless master holds the stream until the replica's first ACK (the replica can only
      // find the end mark at the end of what it read).
      await StreamFuzz.writePieces(r.conn, cut(StreamFuzz.syncBytes(plan, rdb, Buffer.alloc(0)), plan.cuts));
      await r.conn.readUntil((a) => a[0] === 'REPLCONF' && a[1] === 'ACK', 10000);
      await StreamFuzz.writePieces(r.conn, cut(stream, plan.cuts));
    }
    const end = plan.offset + stream.length;
    let inf: Record<string, string> = {};
    try {
      await waitFor(
        async () => {
          inf = await this.replInfo();
          return inf.master_link_status === 'up' && inf.slave_repl_offset === String(end);
        },
        `slave_repl_offset ${end}`,
        15000,
        10,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}; INFO: ${JSON.stringify(inf)}\n${this.replica.log().slice(-2000)}`);
    }
    assert.equal(inf.slave_read_repl_offset, String(end));
    assert.equal(inf.master_repl_offset, String(end));
    assert.equal(inf.master_replid, plan.replid);
    await this.oracleApply(rdb, initialDb, plan.commands);
    assert.equal(await this.probe.digest(), await this.oracleDigest(), 'the replica and the oracle hold the same dataset');
    return { conn: r.conn, end };
  }

  // -----------------------------------------------------------------------------------------
  // Mutated stream

  /**
   * After a valid sync at `end`, sends the mutation and checks the replica's reaction (see
   * StreamMutation). Leaves the replica's next connection ready.
   */
  async mutatedStream(m: StreamMutation, conn: FakeConn, replid: string, end: number, cuts: number[]): Promise<void> {
    const logFrom = this.replica.log().length;
    await StreamFuzz.writePieces(conn, cut(m.bytes, cuts));
    const total = end + m.bytes.length;
    let psync: string[];
    if (m.expect === 'drop') {
      await conn.waitClosed(3000);
      const next = await this.nextReady();
      this.ready = next;
      assert.deepEqual(next.psync, ['PSYNC', '?', '-1'], 'a protocol error discards the cached master');
      assert.equal((await this.replInfo()).master_repl_offset, String(end + m.applied), 'exactly the valid commands were applied');
      assert.match(this.replica.log().slice(logFrom), /Protocol error \(ERR Protocol error: [^)]*\) from master|Receiving inline protocol from master/);
      this.count('dropped at once');
      this.ready = next;
      psync = next.psync;
    } else if (m.expect === 'wait') {
      await waitFor(async () => (await this.replInfo()).slave_read_repl_offset === String(total), `every byte read (${total})`, 10000, 10);
      const inf = await this.replInfo();
      assert.equal(inf.master_link_status, 'up', 'an incomplete command keeps the link');
      assert.equal(inf.slave_repl_offset, String(end + m.applied), 'only complete commands are applied');
      await this.checkHealthy(192 * 1024);
      conn.close();
      const next = await this.nextReady();
      this.ready = next;
      assert.deepEqual(next.psync, ['PSYNC', replid, String(end + m.applied + 1)], 'the cached master continues after the last applied command');
      this.count('waited for more');
      this.ready = next;
      psync = next.psync;
    } else {
      // Either a protocol error closes the link at once, or the stream went on (a changed value,
      // a command that failed, a bulk still waiting for bytes): then the master goes away.
      const dropped = await waitFor(() => conn.closed, 'a drop', 300).then(
        () => true,
        () => false,
      );
      if (!dropped) {
        await this.checkHealthy(192 * 1024);
        conn.close();
      }
      const next = await this.nextReady();
      this.ready = next;
      if (next.psync[1] === '?') {
        this.count('dropped at once');
        assert.equal(next.psync[2], '-1');
      } else {
        this.count(dropped ? 'dropped (not a protocol error)' : 'kept the link');
        assert.equal(next.psync[1], replid);
        const off = Number(next.psync[2]) - 1;
        assert.ok(off >= end && off <= total, `PSYNC offset ${off} within [${end}, ${total}]`);
      }
      this.ready = next;
      psync = next.psync;
    }
    assert.ok(psync.length === 3);
    await this.checkHealthy(192 * 1024);
    assert.deepEqual(tempFiles(this.replica.dir), []);
  }

  // -----------------------------------------------------------------------------------------
  // Mutated payload

  /**
   * Answers the ready link with a mutated full sync. The replica must stay up and answer
   * (stale or flushed data, -LOADING while loading), log why it failed, remove its temp file and
   * reconnect; when a mutated payload happens to load, every value is read back without harm.
   */
  async mutatedPayload(m: PayloadMutation, r: Ready, replid: string, cuts: number[]): Promise<string> {
    const logFrom = this.replica.log().length;
    const rdb0 = this.rdbOf(m);
    const conn = r.conn;
    let outcome = '';
    const plan = { replid, offset: 1000, framing: 'len' as const, keepalive: false };
    let bytes: Buffer;
    let closeAfter = false;
    let payloadSent = 0;
    let expectLog: RegExp | null = null;
    switch (m.kind) {
      case 'rdb-flip':
        bytes = StreamFuzz.syncBytes(plan, flipRdb(rdb0, m.flips, m.crc), Buffer.alloc(0));
        break;
      case 'len-short': {
        const n = Math.max(0, rdb0.length - (m.delta % rdb0.length) - 1);
        bytes = Buffer.concat([Buffer.from(`+FULLRESYNC ${replid} 1000\r\n$${n}\r\n`), rdb0]);
        expectLog = /Failed trying to load the MASTER synchronization DB from disk/;
        break;
      }
      case 'len-long':
        bytes = Buffer.concat([Buffer.from(`+FULLRESYNC ${replid} 1000\r\n$${rdb0.length + m.delta}\r\n`), rdb0]);
        payloadSent = rdb0.length;
        closeAfter = true;
        expectLog = /I\/O error trying to sync with MASTER/;
        break;
      case 'eof-mismatch': {
        const mark = 'c'.repeat(40);
        bytes = Buffer.concat([Buffer.from(`+FULLRESYNC ${replid} 1000\r\n$EOF:${mark}\r\n`), rdb0, Buffer.from('c'.repeat(39) + 'd')]);
        payloadSent = rdb0.length + 40;
        closeAfter = true;
        expectLog = /I\/O error trying to sync with MASTER/;
        break;
      }
      case 'truncated': {
        const all = StreamFuzz.syncBytes(plan, rdb0, Buffer.alloc(0));
        const head = all.indexOf('\n', all.indexOf('$')) + 1;
        payloadSent = m.at % rdb0.length;
        bytes = all.subarray(0, head + payloadSent);
        closeAfter = true;
        expectLog = /I\/O error trying to sync with MASTER/;
        break;
      }
      case 'bad-header':
        bytes = Buffer.concat([Buffer.from(`+FULLRESYNC ${replid} 1000\r\n${m.header}`, 'latin1'), rdb0]);
        break;
      case 'bad-fullresync':
        bytes = Buffer.concat([Buffer.from(m.fullresync, 'latin1'), Buffer.from(`$${rdb0.length}\r\n`), rdb0]);
        break;
    }
    // Failures before the payload is complete must leave the current dataset alone (stale data
    // is served, as Redis does); a zero-length or failed load flushes it, as Redis does.
    const keepsData =
      m.kind === 'len-long' || m.kind === 'eof-mismatch' || m.kind === 'truncated' || (m.kind === 'bad-header' && !m.header.startsWith('$\r') && !m.header.startsWith('$a'));
    const before = keepsData ? await this.probe.digest() : '';
    await StreamFuzz.writePieces(conn, cut(bytes, cuts));
    if (closeAfter) {
      // Every byte sent reached the replica's temp file before the master goes away.
      await waitFor(
        async () => (await this.replInfo()).master_sync_read_bytes === String(payloadSent),
        `${payloadSent} payload bytes received`,
        5000,
        10,
      );
      conn.close();
    }
    // The outcome: the link comes up (the payload loaded), or the replica reconnects.
    const box: { next: Ready | null } = { next: null };
    const nextP = this.nextReady(10000).then((n) => (box.next = n));
    nextP.catch(() => undefined);
    await waitFor(
      async () => box.next !== null || (await this.replInfo()).master_link_status === 'up',
      `the outcome of a mutated payload (${m.kind})`,
      10000,
      10,
    );
    let next = box.next;
    if (next === null) {
      outcome = 'loaded';
      await this.sweep();
      conn.close();
      next = await nextP;
      this.ready = next;
    } else {
      this.ready = next;
      outcome = 'refused';
      // While the link is down the replica keeps answering (a flushed or stale dataset).
      const dbsize = await this.probe.call('DBSIZE');
      assert.equal(typeof dbsize, 'number', `DBSIZE answered ${String(dbsize)}`);
      if (expectLog) assert.match(this.replica.log().slice(logFrom), expectLog);
      if (keepsData) assert.equal(await this.probe.digest(), before, 'a failed transfer leaves the stale dataset in place');
    }
    this.count(`${m.kind}: ${outcome}`);
    await this.checkHealthy(192 * 1024);
    assert.deepEqual(tempFiles(this.replica.dir), [], 'the temp file of a failed transfer is removed');
    return outcome;
  }

  /** Reads every key of every DB back with the commands of its type (a mutated payload loaded). */
  async sweep(): Promise<void> {
    assert.match(await this.probe.digest(), /^[0-9a-f]{40}$/);
    const c = await Resp.open(this.replica.port);
    try {
      const keyspace = await this.probe.info('keyspace');
      for (const dbName of Object.keys(keyspace)) {
        await c.call('SELECT', dbName.slice(2));
        let cursor = '0';
        do {
          const r = (await c.call('SCAN', cursor, 'COUNT', '200')) as [string, string[]];
          cursor = r[0];
          for (const k of r[1]) await readBack(c, k);
        } while (cursor !== '0');
      }
    } finally {
      c.close();
    }
  }
}

/** Reads one key back with the read commands of its type (errors are fine, a crash is not). */
export async function readBack(c: Resp, k: string): Promise<void> {
  const type = await c.call('TYPE', k);
  const reads: Record<string, string[][]> = {
    string: [['GET', k], ['STRLEN', k], ['GETRANGE', k, '0', '-1']],
    list: [['LRANGE', k, '0', '-1'], ['LLEN', k], ['LINDEX', k, '-1']],
    hash: [['HGETALL', k], ['HLEN', k], ['HRANDFIELD', k, '-3']],
    set: [['SMEMBERS', k], ['SCARD', k], ['SRANDMEMBER', k, '-3']],
    zset: [['ZRANGE', k, '0', '-1', 'WITHSCORES'], ['ZCARD', k], ['ZRANGEBYSCORE', k, '-inf', '+inf']],
    stream: [['XRANGE', k, '-', '+'], ['XLEN', k], ['XINFO', 'STREAM', k, 'FULL']],
  };
  for (const argv of reads[String(type)] ?? []) await c.call(...argv);
  await c.call('DUMP', k);
  await c.call('OBJECT', 'ENCODING', k);
  await c.call('PTTL', k);
}

/**
 * fc.check with a readable failure: the seed and path to replay it, the cause, and the
 * counterexample with long strings elided (values reach 70 KB).
 */
export async function checkProperty<T>(prop: fc.IAsyncProperty<T>, params: fc.Parameters<T>): Promise<void> {
  const out = await fc.check(prop, params);
  if (!out.failed) return;
  const elide = (_k: string, v: unknown): unknown => {
    if (typeof v === 'string' && v.length > 120) return `${JSON.stringify(v.slice(0, 60)).slice(1, -1)}…(${v.length} chars)`;
    if (v instanceof Uint8Array || (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer')) {
      const b = Buffer.from(v instanceof Uint8Array ? v : (v as { data: number[] }).data);
      return b.length > 160 ? `<${b.length} bytes: ${JSON.stringify(b.subarray(0, 80).toString('latin1'))}…>` : `<${JSON.stringify(b.toString('latin1'))}>`;
    }
    return v;
  };
  const example = JSON.stringify(out.counterexample, elide).slice(0, 6000);
  const cause = out.errorInstance instanceof Error ? (out.errorInstance.stack ?? out.errorInstance.message) : String(out.errorInstance);
  throw new Error(
    `property failed after ${out.numRuns} runs (seed ${out.seed}, path "${out.counterexamplePath}")\n` +
      `replay: MIRRA_FUZZ_SEED=${out.seed}\ncause: ${cause.slice(0, 3000)}\ncounterexample: ${example}`,
  );
}
