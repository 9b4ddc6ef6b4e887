/**
 * Separate test hosts in Linux network namespaces (root only), so a partition is a real cut
 * between hosts rather than a closed socket.
 *
 * `TestNetwork.create(n)` makes n namespaces `mirra-<tag>-<i>` attached to one bridge living in
 * a switch namespace, with addresses from 198.51.100.0/24 (TEST-NET-2, reserved for
 * documentation and tests, never routed). Each host has its own loopback too. `partition(i)`
 * takes host i's link down (it can reach nobody and nobody can reach it); `heal(i)` brings it
 * back. `destroy()` deletes every namespace it created. Nothing here touches the root
 * namespace's interfaces.
 */
import { spawnSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function netnsAvailable(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = `mirra-probe-${randomBytes(3).toString('hex')}`;
  const ok = spawnSync('ip', ['netns', 'add', probe]).status === 0;
  if (ok) spawnSync('ip', ['netns', 'del', probe]);
  return ok;
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr}`);
}

export interface TestHost {
  index: number;
  ns: string;
  address: string;
  /** Spawns a command inside this host's namespace. */
  spawn(cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Runs a command inside the namespace and returns stdout. */
  run(cmd: string, args: string[]): string;
}

export class TestNetwork {
  readonly hosts: TestHost[] = [];
  private readonly switchNs: string;
  private destroyed = false;

  private constructor(readonly tag: string) {
    this.switchNs = `mirra-${tag}-sw`;
  }

  static create(n: number): TestNetwork {
    const net = new TestNetwork(randomBytes(3).toString('hex'));
    try {
      net.build(n);
    } catch (e) {
      net.destroy();
      throw e;
    }
    return net;
  }

  private build(n: number): void {
    const sw = this.switchNs;
    ip('netns', 'add', sw);
    ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', sw, 'link', 'set', 'br0', 'up');
    for (let i = 0; i < n; i++) {
      const ns = `mirra-${this.tag}-h${i}`;
      const address = `198.51.100.${i + 10}`;
      ip('netns', 'add', ns);
      // veth pair: eth0 inside the host, p<i> on the switch's bridge.
      ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', sw);
      ip('-n', sw, 'link', 'set', `p${i}`, 'master', 'br0');
      ip('-n', sw, 'link', 'set', `p${i}`, 'up');
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      this.hosts.push({
        index: i,
        ns,
        address,
        spawn: (cmd, args, opts = {}) => spawn('ip', ['netns', 'exec', ns, cmd, ...args], opts),
        run: (cmd, args) => spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout: 15000 }).stdout,
      });
    }
  }

  /** Cuts host i off the network (its switch port goes down). */
  partition(i: number): void {
    ip('-n', this.switchNs, 'link', 'set', `p${i}`, 'down');
  }

  heal(i: number): void {
    ip('-n', this.switchNs, 'link', 'set', `p${i}`, 'up');
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const h of this.hosts) spawnSync('ip', ['netns', 'del', h.ns]);
    spawnSync('ip', ['netns', 'del', this.switchNs]);
  }
}
