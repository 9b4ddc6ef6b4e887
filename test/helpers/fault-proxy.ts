/**
 * A fault-injecting TCP proxy to put between two nodes (e.g. a replica and its master):
 * point the replica at the proxy's port, and the proxy forwards to the real master.
 *
 * Faults (each can be turned on and off at any moment, per direction where it makes sense):
 *  - cut()                 close every proxied connection now (the peers see a reset link)
 *  - refuse(on)            refuse new connections (the target looks down)
 *  - stall(dir, on)        stop forwarding bytes in a direction; they queue (bounded) until resumed
 *  - drop(dir, on)         silently discard bytes in a direction (a one-way partition)
 *  - delay(dir, ms)        deliver each chunk ms later (order preserved)
 *  - throttle(dir, bps)    limit throughput in a direction (0 = unlimited)
 * Directions: 'up' = client → target, 'down' = target → client.
 *
 * Everything is bounded: queued bytes beyond `maxQueued` cut the connection, and `close()`
 * tears everything down. Counters tell tests how many bytes crossed.
 */
import net from 'node:net';

export type Direction = 'up' | 'down';

interface Pipe {
  stalled: boolean;
  dropped: boolean;
  delayMs: number;
  bps: number;
}

interface Link {
  client: net.Socket;
  target: net.Socket;
  queues: Record<Direction, Buffer[]>;
  queued: Record<Direction, number>;
  pumping: Record<Direction, boolean>;
}

export class FaultProxy {
  readonly bytes: Record<Direction, number> = { up: 0, down: 0 };
  connections = 0;
  private server: net.Server;
  private links = new Set<Link>();
  private refusing = false;
  private pipes: Record<Direction, Pipe> = {
    up: { stalled: false, dropped: false, delayMs: 0, bps: 0 },
    down: { stalled: false, dropped: false, delayMs: 0, bps: 0 },
  };
  port = 0;

  private constructor(
    readonly targetPort: number,
    readonly targetHost: string,
    readonly maxQueued: number,
  ) {
    this.server = net.createServer((s) => this.accept(s));
  }

  static async start(targetPort: number, opts: { host?: string; maxQueued?: number } = {}): Promise<FaultProxy> {
    const p = new FaultProxy(targetPort, opts.host ?? '127.0.0.1', opts.maxQueued ?? 256 * 1024 * 1024);
    await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.1', resolve));
    p.port = (p.server.address() as net.AddressInfo).port;
    return p;
  }

  private accept(client: net.Socket): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    this.connections++;
    const target = net.connect(this.targetPort, this.targetHost);
    const link: Link = { client, target, queues: { up: [], down: [] }, queued: { up: 0, down: 0 }, pumping: { up: false, down: false } };
    this.links.add(link);
    const kill = () => {
      client.destroy();
      target.destroy();
      this.links.delete(link);
    };
    client.on('error', kill);
    target.on('error', kill);
    client.on('close', kill);
    target.on('close', kill);
    client.on('data', (d) => this.enqueue(link, 'up', d));
    target.on('data', (d) => this.enqueue(link, 'down', d));
  }

  private enqueue(link: Link, dir: Direction, data: Buffer): void {
    const pipe = this.pipes[dir];
    if (pipe.dropped) return;
    link.queues[dir].push(data);
    link.queued[dir] += data.length;
    if (link.queued[dir] > this.maxQueued) {
      link.client.destroy();
      link.target.destroy();
      return;
    }
    this.pump(link, dir);
  }

  private pump(link: Link, dir: Direction): void {
    if (link.pumping[dir]) return;
    const pipe = this.pipes[dir];
    const out = dir === 'up' ? link.target : link.client;
    const q = link.queues[dir];
    if (pipe.stalled || q.length === 0 || out.destroyed) return;
    link.pumping[dir] = true;
    let chunk = q.shift()!;
    if (pipe.bps > 0) {
      // Send at most ~50 ms worth of bytes, then come back.
      const max = Math.max(1, Math.floor(pipe.bps / 20));
      if (chunk.length > max) {
        q.unshift(chunk.subarray(max));
        chunk = chunk.subarray(0, max);
      }
    }
    link.queued[dir] -= chunk.length;
    const send = () => {
      if (!out.destroyed && !this.pipes[dir].dropped) {
        out.write(chunk);
        this.bytes[dir] += chunk.length;
      }
      const wait = pipe.bps > 0 ? Math.ceil((chunk.length / pipe.bps) * 1000) : 0;
      setTimeout(() => {
        link.pumping[dir] = false;
        this.pump(link, dir);
      }, wait);
    };
    if (pipe.delayMs > 0) setTimeout(send, pipe.delayMs);
    else send();
  }

  cut(): void {
    for (const l of [...this.links]) {
      l.client.destroy();
      l.target.destroy();
    }
    this.links.clear();
  }

  refuse(on: boolean): void {
    this.refusing = on;
  }

  stall(dir: Direction | 'both', on: boolean): void {
    for (const d of dir === 'both' ? (['up', 'down'] as const) : [dir]) {
      this.pipes[d].stalled = on;
      if (!on) for (const l of this.links) this.pump(l, d);
    }
  }

  drop(dir: Direction | 'both', on: boolean): void {
    for (const d of dir === 'both' ? (['up', 'down'] as const) : [dir]) this.pipes[d].dropped = on;
  }

  delay(dir: Direction | 'both', ms: number): void {
    for (const d of dir === 'both' ? (['up', 'down'] as const) : [dir]) this.pipes[d].delayMs = ms;
  }

  throttle(dir: Direction | 'both', bytesPerSecond: number): void {
    for (const d of dir === 'both' ? (['up', 'down'] as const) : [dir]) this.pipes[d].bps = bytesPerSecond;
  }

  /** Back to a transparent proxy. */
  heal(): void {
    this.refuse(false);
    this.drop('both', false);
    this.delay('both', 0);
    this.throttle('both', 0);
    this.stall('both', false);
  }

  get openLinks(): number {
    return this.links.size;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
