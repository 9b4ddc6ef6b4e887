/**
 * Compares what Mirra and redis-server 7.0 propagate, through their AOFs: both servers run with
 * appendonly/appendfsync always, get the same commands (replies must match too), and the
 * incremental AOF files are returned for byte comparison.
 */
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startMirra, startRedis, type ServerHandle } from './servers.js';
import { waitFor } from './wait.js';

const AOF_ARGS = ['--appendonly', 'yes', '--appendfsync', 'always'];

export class AofPair {
  private constructor(
    readonly mirra: ServerHandle,
    readonly redis: ServerHandle,
    /** Clients of Mirra and of redis-server. */
    readonly m: Redis,
    readonly r: Redis,
  ) {}

  static async start(): Promise<AofPair> {
    const [mirra, redis] = await Promise.all([startMirra({ args: AOF_ARGS }), startRedis({ args: AOF_ARGS })]);
    return new AofPair(mirra, redis, new Redis(mirra.port, '127.0.0.1'), new Redis(redis.port, '127.0.0.1'));
  }

  async stop(): Promise<void> {
    this.m.disconnect();
    this.r.disconnect();
    await Promise.all([this.mirra.stop(), this.redis.stop()]);
  }

  /** Runs the commands on both servers (errors are replies too) and returns both AOF streams. */
  async runBoth(commands: (string | Buffer)[][], marker: string): Promise<[string, string]> {
    for (const argv of commands) {
      const [name, ...args] = argv;
      const [a, b] = await Promise.all(
        [this.m, this.r].map((c) => c.callBuffer(name as string, ...args).then(String, (e: Error) => `ERR:${e.message}`)),
      );
      assert.equal(a, b, `reply of ${argv.join(' ')}`);
    }
    for (const c of [this.m, this.r]) await c.set(marker, '1');
    const end = `$${marker.length}\r\n${marker}\r\n$1\r\n1\r\n`;
    await waitFor(() => incrAof(this.mirra).endsWith(end) && incrAof(this.redis).endsWith(end), 'both AOFs flushed');
    return [incrAof(this.mirra), incrAof(this.redis)];
  }
}

function incrAof(h: ServerHandle): string {
  const file = path.join(h.dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
  return fs.existsSync(file) ? fs.readFileSync(file).toString('latin1') : '';
}

/** The commands of an AOF stream, as readable lines. */
export function commandsOf(aof: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < aof.length) {
    const nl = aof.indexOf('\r\n', i);
    const n = Number(aof.slice(i + 1, nl));
    i = nl + 2;
    const args: string[] = [];
    for (let k = 0; k < n; k++) {
      const l = aof.indexOf('\r\n', i);
      const len = Number(aof.slice(i + 1, l));
      args.push(aof.slice(l + 2, l + 2 + len));
      i = l + 2 + len + 2;
    }
    out.push(args.join(' '));
  }
  return out;
}

/** One AofPair for the whole test file, started in before() and stopped in after() (nothing when `skip`). */
export function withAofPair(onReady: (pair: AofPair) => void, skip: boolean | string): void {
  let pair: AofPair | undefined;
  before(async () => {
    if (skip) return;
    pair = await AofPair.start();
    onReady(pair);
  });
  after(async () => {
    await pair?.stop();
  });
}
