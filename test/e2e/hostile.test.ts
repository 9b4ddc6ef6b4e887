/**
 * Hostile clients: lying lengths, an endless inline line, a pipeliner that never reads, a slow
 * reader of big replies, a connection flood beyond maxclients, client-query-buffer-limit.
 * Throughout, the server's memory (RSS from ps) must stay bounded and another client must keep
 * getting fast answers. The measured figures are printed for the record.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFile, spawnSync } from 'node:child_process';
import { startMirra, startRedis, hasRedis, redisCli, type ServerHandle } from '../helpers/servers.js';
import { RawConn } from '../helpers/raw.js';
import { waitFor, sleep } from '../helpers/wait.js';

const MB = 1024 * 1024;
let srv: ServerHandle;

before(async () => {
  srv = await startMirra();
  // A 1 MB value for the big-reply scenarios.
  const c = await RawConn.connect(srv.port);
  const v = 'v'.repeat(MB);
  assert.equal(await c.roundtrip(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${v.length}\r\n${v}\r\n`, 5), '+OK\r\n');
  c.close();
});
after(async () => {
  await srv?.stop();
});

/** Resident set size of a process, in MB. */
function rssMB(pid: number): number {
  const r = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
  return Number(r.stdout.trim()) / 1024;
}

/**
 * Samples the server's RSS every 50 ms until stopped; returns the peak. Asynchronous, so the
 * sampling does not stall the latency prober running in this same process.
 */
function rssSampler(pid: number): { stop(): Promise<number> } {
  let peak = rssMB(pid);
  let running = true;
  const loop = (async () => {
    while (running) {
      const out = await new Promise<string>((r) => execFile('ps', ['-o', 'rss=', '-p', String(pid)], (_e, stdout) => r(stdout)));
      const mb = Number(out.trim()) / 1024;
      if (mb > 0) peak = Math.max(peak, mb);
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return Math.max(peak, rssMB(pid));
    },
  };
}

/** Another client sending PING after PING; reports its latencies. */
function prober(port: number): { stop(): Promise<{ count: number; maxMs: number; p99Ms: number }> } {
  let running = true;
  const lat: number[] = [];
  const done = (async () => {
    const c = await RawConn.connect(port);
    while (running) {
      const t0 = performance.now();
      assert.equal(await c.roundtrip('PING\r\n', 7), '+PONG\r\n');
      lat.push(performance.now() - t0);
      await sleep(10);
    }
    c.close();
  })();
  return {
    async stop() {
      running = false;
      await done;
      const sorted = [...lat].sort((a, b) => a - b);
      return { count: lat.length, maxMs: sorted[sorted.length - 1] ?? 0, p99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0 };
    },
  };
}

function report(what: string, figures: Record<string, number | string>): void {
  const text = Object.entries(figures)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? v.toFixed(1) : v}`)
    .join(' ');
  console.log(`[hostile] ${what}: ${text}`);
}

/** Writes `chunk` repeatedly for `ms`, respecting backpressure (a stalled peer just stalls us). */
async function flood(sock: net.Socket, chunk: Buffer, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let sent = 0;
  while (Date.now() < end && !sock.destroyed) {
    if (sock.write(chunk)) sent += chunk.length;
    else {
      sent += chunk.length;
      await new Promise<void>((r) => {
        const onDrain = () => (clearTimeout(t), r());
        const t = setTimeout(() => (sock.off('drain', onDrain), r()), 100);
        sock.once('drain', onDrain);
      });
    }
  }
  return sent;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', (e) => (s.destroyed ? undefined : reject(e)));
  });
}

test('huge claimed lengths do not allocate what they claim', async () => {
  const base = rssMB(srv.pid);
  const probe = prober(srv.port);
  const conns: RawConn[] = [];
  for (let i = 0; i < 20; i++) {
    const c = await RawConn.connect(srv.port);
    c.write(i % 2 ? `*2147483647\r\n$536870912\r\n${'x'.repeat(1000)}` : `*1\r\n$536870912\r\n${'y'.repeat(100 * 1024)}`);
    conns.push(c);
  }
  await sleep(300);
  const after = rssMB(srv.pid);
  const p = await probe.stop();
  report('20 clients claiming 512 MB bulks', { rssBeforeMB: base, rssAfterMB: after, pingMaxMs: p.maxMs });
  assert.ok(after - base < 100, `RSS grew by ${(after - base).toFixed(1)} MB`);
  for (const c of conns) c.close();
  assert.equal(redisCli(srv.port, 'ping'), 'PONG');
});

test('an endless inline line is cut at 64 KB with the protocol error', async () => {
  const c = await RawConn.connect(srv.port);
  let sent = 0;
  const chunk = 'a'.repeat(8192);
  while (!c.closed && sent < 8 * MB) {
    c.write(chunk);
    sent += chunk.length;
    await sleep(1);
  }
  const got = await c.read(1);
  const rest = await c.drain(50);
  report('endless inline line', { bytesSentBeforeClose: sent });
  assert.equal(got + rest, '-ERR Protocol error: too big inline request\r\n');
  assert.ok(c.closed);
  assert.ok(sent < 4 * MB, `server read ${sent} bytes before closing`);
});

test('a client pipelining big GETs without reading: input paused, memory bounded, others served', async () => {
  const base = rssMB(srv.pid);
  const sampler = rssSampler(srv.pid);
  const probe = prober(srv.port);
  const sock = await connect(srv.port);
  sock.pause(); // never read a byte
  const request = Buffer.from('GET big\r\n'.repeat(4000));
  const sent = await flood(sock, request, 2500);
  const peak = await sampler.stop();
  const p = await probe.stop();
  sock.destroy();
  report('pipeliner never reading 1 MB replies', { requestsSent: sent / 9, rssBeforeMB: base, rssPeakMB: peak, pingCount: p.count, pingP99Ms: p.p99Ms, pingMaxMs: p.maxMs });
  assert.ok(peak - base < 250, `RSS grew by ${(peak - base).toFixed(1)} MB`);
  assert.ok(p.count > 20, 'the other client kept being served');
  await waitFor(() => redisCli(srv.port, 'ping') === 'PONG', 'server responsive');
});

test('a slow reader of big replies: memory bounded, others served, every byte delivered', async () => {
  const base = rssMB(srv.pid);
  const sampler = rssSampler(srv.pid);
  const probe = prober(srv.port);
  const sock = await connect(srv.port);
  const n = 24;
  const expected = n * (MB + '$1048576\r\n\r\n'.length);
  sock.pause();
  sock.write('GET big\r\n'.repeat(n));
  let received = 0;
  const t0 = Date.now();
  // Read about 12 MB/s: 128 KB every 10 ms.
  while (received < expected && Date.now() - t0 < 60000) {
    await sleep(10);
    let chunk: Buffer | null;
    let budget = 128 * 1024;
    while (budget > 0 && (chunk = sock.read() as Buffer | null) !== null) {
      received += chunk.length;
      budget -= chunk.length;
    }
  }
  const peak = await sampler.stop();
  const p = await probe.stop();
  sock.destroy();
  report('slow reader of 24 x 1 MB replies', { seconds: (Date.now() - t0) / 1000, rssBeforeMB: base, rssPeakMB: peak, pingCount: p.count, pingP99Ms: p.p99Ms, pingMaxMs: p.maxMs });
  assert.equal(received, expected);
  assert.ok(peak - base < 250, `RSS grew by ${(peak - base).toFixed(1)} MB`);
  assert.ok(p.p99Ms < 500);
});

test('a connection flood beyond maxclients: refused with the error, others served', async () => {
  assert.equal(redisCli(srv.port, 'config', 'set', 'maxclients', '50'), 'OK');
  const probe = prober(srv.port);
  await sleep(50);
  const base = rssMB(srv.pid);
  const socks: net.Socket[] = [];
  let refused = 0;
  let accepted = 0;
  await Promise.all(
    Array.from({ length: 300 }, async () => {
      const s = net.connect(srv.port, '127.0.0.1');
      socks.push(s);
      s.on('error', () => {});
      let data = '';
      s.on('data', (d) => (data += d.toString()));
      await new Promise<void>((r) => {
        s.on('connect', () => s.write('PING\r\n'));
        s.on('close', () => r());
        const check = setInterval(() => {
          if (data === '+PONG\r\n') {
            clearInterval(check);
            r();
          }
        }, 20);
        s.on('close', () => clearInterval(check));
      });
      if (data === '+PONG\r\n') accepted++;
      else if (data === '-ERR max number of clients reached\r\n') refused++;
    }),
  );
  const after = rssMB(srv.pid);
  const p = await probe.stop();
  report('flood of 300 connections, maxclients 50', { accepted, refused, rssBeforeMB: base, rssAfterMB: after, pingP99Ms: p.p99Ms, pingMaxMs: p.maxMs });
  assert.equal(accepted + refused, 300);
  assert.ok(accepted <= 50 && accepted >= 40, `accepted ${accepted}`);
  for (const s of socks) s.destroy();
  await waitFor(() => redisCli(srv.port, 'config', 'set', 'maxclients', '10000') === 'OK', 'slots freed');
});

test('client-query-buffer-limit closes the client, as Redis does', { skip: !hasRedis() }, async () => {
  const red = await startRedis();
  try {
    for (const s of [srv, red]) {
      assert.equal(redisCli(s.port, 'config', 'set', 'client-query-buffer-limit', '1mb'), 'OK');
      // A blocked client keeps sending: its unprocessed input grows past the limit.
      const blocked = await connect(s.port);
      let got = '';
      blocked.on('data', (d) => (got += d.toString()));
      blocked.write('BLPOP qbl:nothing 0\r\n');
      await sleep(50);
      await flood(blocked, Buffer.from('SET a b\r\n'.repeat(10000)), 1500);
      await waitFor(() => blocked.destroyed || blocked.readableEnded, `${s.kind} closes the blocked client`, 5000);
      assert.equal(got, '');
      // A single 2 MB argument.
      const big = await RawConn.connect(s.port);
      big.write(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${2 * MB}\r\n`);
      big.write('z'.repeat(2 * MB));
      assert.ok(await big.waitClosed(), `${s.kind} closes the client with a 2 MB argument`);
      assert.equal(await big.drain(10), '');
      assert.equal(redisCli(s.port, 'config', 'set', 'client-query-buffer-limit', '1gb'), 'OK');
    }
    assert.match(srv.log(), /Closing client that reached max query buffer length/);
  } finally {
    await red.stop();
  }
});
