/**
 * A real network partition between two hosts (Linux network namespaces, root only): master on
 * host 0, replica on host 1, repl-timeout 3 s. Host 1 is cut off while the master keeps being
 * written; both sides notice through repl-timeout (no socket is closed by anyone else), the
 * master drops the replica; after the heal the replica reconnects and continues with a partial
 * resynchronisation, with every write present and the same DEBUG DIGEST on both hosts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { netnsAvailable, TestNetwork, type TestHost } from '../helpers/netns.js';
import { MIRRA_BIN, SERVER_NODE_FLAGS, tempDir } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

const PORT = 6379;

interface NsServer {
  host: TestHost;
  proc: ChildProcess;
  logfile: string;
}

function cliOn(host: TestHost, ...args: string[]): string {
  return host.run('redis-cli', ['-h', '127.0.0.1', '-p', String(PORT), ...args]).replace(/\n$/, '');
}

function infoOn(host: TestHost, section = 'replication'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of cliOn(host, 'info', section).split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trimEnd();
  }
  return out;
}

function startOn(host: TestHost, args: string[]): NsServer {
  const dir = tempDir('mirra-netns-');
  const logfile = path.join(dir, 'mirra.log');
  const proc = host.spawn(
    process.execPath,
    [...SERVER_NODE_FLAGS, MIRRA_BIN, '--port', String(PORT), '--bind', `${host.address} 127.0.0.1`, '--dir', dir, '--logfile', logfile, '--save', '', '--enable-debug-command', 'yes', '--protected-mode', 'no', ...args],
    { stdio: 'ignore' },
  );
  return { host, proc, logfile };
}

function logOf(s: NsServer): string {
  return fs.existsSync(s.logfile) ? fs.readFileSync(s.logfile, 'utf8') : '';
}

/** MSET of `n` keys `<prefix>:<i>` in one command (run inside the host's namespace). */
function writeBatch(host: TestHost, prefix: string, n: number): void {
  const args: string[] = [];
  for (let i = 0; i < n; i++) args.push(`${prefix}:${i}`, String(i));
  assert.equal(cliOn(host, 'mset', ...args), 'OK');
}

test('a partitioned replica host: repl-timeout on both sides, partial resync after the heal', { skip: !netnsAvailable() && 'needs root and ip netns' }, async () => {
  const network = TestNetwork.create(2);
  const servers: NsServer[] = [];
  after(() => {
    for (const s of servers) {
      try {
        if (s.proc.pid) process.kill(s.proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    network.destroy();
  });
  const [h0, h1] = network.hosts as [TestHost, TestHost];
  const common = ['--repl-timeout', '3', '--repl-ping-replica-period', '1', '--repl-diskless-sync-delay', '0'];
  const master = startOn(h0, common);
  servers.push(master);
  await waitFor(() => cliOn(h0, 'ping') === 'PONG', 'the master to start', 15000);
  const replica = startOn(h1, [...common, '--replicaof', h0.address, String(PORT)]);
  servers.push(replica);
  await waitFor(() => infoOn(h1).master_link_status === 'up', 'the replica link to come up', 15000);
  writeBatch(h0, 'before', 200);
  await waitFor(() => infoOn(h1).master_repl_offset === infoOn(h0).master_repl_offset, 'the replica to catch up', 15000);
  const fullBefore = Number(infoOn(h0, 'stats').sync_full);

  network.partition(1);
  writeBatch(h0, 'during', 200);
  // Nothing closes the connection: each side gives up on its own after repl-timeout.
  await waitFor(() => infoOn(h0).connected_slaves === '0', 'the master to drop the silent replica', 20000, 200);
  assert.match(logOf(master), /Disconnecting timedout replica/);
  await waitFor(() => infoOn(h1).master_link_status === 'down', 'the replica to give up on its master', 20000, 200);
  assert.match(logOf(replica), /MASTER timeout: no data nor PING received/);
  writeBatch(h0, 'after-timeout', 200);

  network.heal(1);
  await waitFor(
    () => {
      const r = infoOn(h1);
      return r.master_link_status === 'up' && r.master_repl_offset === infoOn(h0).master_repl_offset;
    },
    'the replica to reconnect and catch up',
    30000,
    200,
  );
  const stats = infoOn(h0, 'stats');
  assert.equal(Number(stats.sync_full), fullBefore, 'no full resync');
  assert.ok(Number(stats.sync_partial_ok) >= 1, 'a partial resync');
  assert.equal(cliOn(h1, 'dbsize'), '600');
  assert.equal(cliOn(h1, 'debug', 'digest'), cliOn(h0, 'debug', 'digest'));
  console.log(`netns partition: partial=${stats.sync_partial_ok} full_after_first=${Number(stats.sync_full) - fullBefore} keys=600 lost=0`);
});
