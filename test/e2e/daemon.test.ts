/**
 * Running as a service: `daemonize yes` (seed 004's master config), pidfile, logfile in Redis's
 * line format, loglevel, the lines tools grep for, SIGTERM/SIGINT graceful shutdown, SHUTDOWN's
 * argument errors, and starts that must fail cleanly (port in use, bad dir, corrupt dataset).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { MIRRA_BIN, SERVER_NODE_FLAGS, hasRedis, tempDir, redisCli, startMirra, startRedis, canConnect } from '../helpers/servers.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';

/** Pids of daemons started here, killed in after() if a test left one running. */
const daemons = new Set<number>();
after(() => {
  for (const pid of daemons) {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs mirra-server to completion (the daemonizing parent, or a start that must fail). */
function run(args: string[], timeout = 20000): { status: number | null; stdout: string; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [...SERVER_NODE_FLAGS, MIRRA_BIN, ...args], { encoding: 'utf8', timeout });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

/** Every line of a Redis log: `pid:role dd Mon yyyy hh:mm:ss.mmm <level> message`. */
const LOG_LINE = /^\d+:([MSC] \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2}\.\d{3} [.\-*#] .+|signal-handler \(\d+\) .+)$/;

function assertLogFormat(log: string): void {
  const lines = log.split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 0);
  for (const l of lines) assert.match(l, LOG_LINE);
}

test("seed 004's master config: daemonize, pidfile, logfile; redis-cli shutdown stops it cleanly", async () => {
  const dir = tempDir();
  const port = await freePort();
  const pidfile = path.join(dir, `redis_${port}.pid`);
  const logfile = path.join(dir, `master_${port}.log`);
  const conf = path.join(dir, `master_${port}.conf`);
  // The blog's lines, with its typographic quotes and trailing comments, pointed at a temp dir.
  fs.writeFileSync(
    conf,
    ['daemonize yes', ' ', `pidfile ${pidfile}`, ' ', `port ${port}`, ' ', `logfile “${logfile}” # 该项可不设置，默认输出到/dev/null`, ' ', 'slave-read-only yes # 表示从库只读', ''].join('\n'),
  );
  const r = run([conf, '--dir', dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  // The parent returned only once the daemon serves.
  assert.equal(redisCli(port, 'ping'), 'PONG');
  const pid = Number(fs.readFileSync(pidfile, 'utf8').trim());
  daemons.add(pid);
  assert.ok(alive(pid));
  assert.equal(redisCli(port, 'config', 'get', 'slave-read-only'), 'slave-read-only\nyes');
  const log = fs.readFileSync(logfile, 'utf8');
  assertLogFormat(log);
  assert.match(log, new RegExp(` PID: ${pid}\\b`));
  assert.match(log, / \* Ready to accept connections\n/);
  assert.match(log, /# Trailing comment ignored at line 7 of /);

  redisCli(port, 'shutdown');
  await waitFor(() => !alive(pid), `daemon ${pid} to exit`, 10000);
  assert.ok(!fs.existsSync(pidfile), 'pidfile removed');
  const end = fs.readFileSync(logfile, 'utf8');
  assert.match(end, /# User requested shutdown\.\.\.\n/);
  assert.match(end, /\* Removing the pid file\.\n/);
  assert.match(end, /# Redis is now ready to exit, bye bye\.\.\.\n$/);
  assertLogFormat(end);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a daemon that cannot listen: the parent exits 1 and says why; nothing keeps running', async () => {
  const dir = tempDir();
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const logfile = path.join(dir, 'd.log');
    const pidfile = path.join(dir, 'd.pid');
    const r = run(['--daemonize', 'yes', '--port', String(port), '--bind', '127.0.0.1', '--logfile', logfile, '--pidfile', pidfile, '--dir', dir]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`Failed listening on port ${port} \\(TCP\\), aborting\\.`));
    assert.match(fs.readFileSync(logfile, 'utf8'), new RegExp(`# Failed listening on port ${port} \\(TCP\\), aborting\\.\n`));
    assert.ok(!fs.existsSync(pidfile));
  } finally {
    blocker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('port in use in the foreground: the same log lines as redis-server, exit 1, no stack trace', { skip: !hasRedis() }, async () => {
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const m = run(['--port', String(port), '--bind', '127.0.0.1', '--save', '']);
    const r = spawnSync('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', ''], { encoding: 'utf8', timeout: 10000 });
    assert.equal(m.status, 1);
    assert.equal(r.status, 1);
    const tail = (s: string) =>
      s
        .split('\n')
        .filter((l) => /listening/.test(l))
        .map((l) => l.replace(/^\d+:M [^#*]+ /, ''));
    assert.deepEqual(tail(m.stdout), tail(r.stdout));
    assert.deepEqual(tail(m.stdout), [
      `# Warning: Could not create server TCP listening socket 127.0.0.1:${port}: bind: Address already in use`,
      `# Failed listening on port ${port} (TCP), aborting.`,
    ]);
    assert.equal(m.stderr, '');
  } finally {
    blocker.close();
  }
});

test('bad starts: a dir that is not a directory, a corrupt dataset: one message, exit 1', { skip: !hasRedis() }, async () => {
  const dir = tempDir();
  const notDir = path.join(dir, 'file');
  fs.writeFileSync(notDir, 'x');
  const m = run(['--port', '0', '--dir', notDir]);
  const r = spawnSync('redis-server', ['--port', '0', '--dir', notDir], { encoding: 'utf8', timeout: 10000 });
  assert.equal(m.status, 1);
  assert.equal(r.status, 1);
  assert.deepEqual(m.stderr.split('\n').slice(0, 5), r.stderr.split('\n').slice(0, 5));
  assert.match(m.stderr, /\nNot a directory\n/);

  fs.writeFileSync(path.join(dir, 'dump.rdb'), 'REDIS0010 this is not an RDB file');
  const port = await freePort();
  const bad = run(['--port', String(port), '--dir', dir, '--logfile', path.join(dir, 'bad.log')]);
  assert.equal(bad.status, 1);
  assert.doesNotMatch(bad.stderr + bad.stdout, /\n\s+at /, 'no stack trace');
  const log = fs.readFileSync(path.join(dir, 'bad.log'), 'utf8');
  assertLogFormat(log);
  assert.doesNotMatch(log, / Ready to accept connections/);
  fs.rmSync(dir, { recursive: true, force: true });
});

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  test(`${sig}: graceful shutdown (log lines, pidfile removed, exit 0)`, async () => {
    const dir = tempDir();
    const port = await freePort();
    const logfile = path.join(dir, 's.log');
    const pidfile = path.join(dir, 's.pid');
    const p = spawn(process.execPath, [...SERVER_NODE_FLAGS, MIRRA_BIN, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--logfile', logfile, '--pidfile', pidfile, '--save', ''], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    try {
      await waitFor(() => fs.existsSync(logfile) && fs.readFileSync(logfile, 'utf8').includes('Ready to accept connections'), 'ready', 15000);
      assert.equal(fs.readFileSync(pidfile, 'utf8').trim(), String(p.pid));
      process.kill(p.pid!, sig);
      assert.equal(await exited, 0);
      const log = fs.readFileSync(logfile, 'utf8');
      assertLogFormat(log);
      assert.match(log, new RegExp(`\\n${p.pid}:signal-handler \\(\\d+\\) Received ${sig} scheduling shutdown\\.\\.\\.\\n`));
      assert.match(log, /# User requested shutdown\.\.\.\n[^]*# Redis is now ready to exit, bye bye\.\.\.\n$/);
      assert.ok(!fs.existsSync(pidfile));
      assert.equal(await canConnect(port), false);
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('loglevel: warning hides notice lines; CONFIG SET loglevel takes effect', async () => {
  const srv = await startMirra({ args: ['--loglevel', 'warning'], waitReady: false });
  try {
    await waitFor(() => canConnect(srv.port), 'listening');
    await waitFor(() => srv.log().includes('Server initialized'), 'initialized');
    assert.doesNotMatch(srv.log(), / \* /, 'no notice lines');
    assert.equal(redisCli(srv.port, 'config', 'set', 'loglevel', 'notice'), 'OK');
    assert.equal(redisCli(srv.port, 'config', 'get', 'loglevel'), 'loglevel\nnotice');
  } finally {
    await srv.stop();
  }
});

test('SHUTDOWN argument errors exactly as Redis', { skip: !hasRedis() }, async () => {
  const [m, r] = await Promise.all([startMirra(), startRedis()]);
  try {
    for (const args of [['foo'], ['nosave', 'save'], ['save', 'nosave', 'now'], ['abort'], ['abort', 'now'], ['now', 'abort'], ['force', 'abort'], ['nosave', 'abort'], ['save', 'foo']]) {
      assert.equal(redisCli(m.port, 'shutdown', ...args), redisCli(r.port, 'shutdown', ...args), `SHUTDOWN ${args.join(' ')}`);
    }
    assert.equal(redisCli(m.port, 'shutdown', 'abort').trim(), 'ERR No shutdown in progress.');
    // Repeating a flag is allowed: this one really shuts down.
    redisCli(m.port, 'shutdown', 'nosave', 'nosave');
    assert.equal(await m.exited, 0);
  } finally {
    await Promise.all([m.stop(), r.stop()]);
  }
});
