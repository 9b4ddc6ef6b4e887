/**
 * Helpers for the AOF process tests: clients, a dataset written through commands (every type,
 * collections larger than the 64-item rewrite batches, expiries, several DBs, INCRBYFLOAT,
 * MULTI/EXEC, streams with groups and PELs), and INFO/dir inspection.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '../helpers/wait.js';

const clients: Redis[] = [];

export function client(port: number, db = 0): Redis {
  const c = new Redis({ port, host: '127.0.0.1', db, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: false });
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

export function closeClients(): void {
  for (const c of clients.splice(0)) c.disconnect();
}

/** Writes the dataset; `tag` varies the values so two phases differ. */
export async function writeDataset(port: number, tag = 'a'): Promise<void> {
  const c = client(port);
  const c2 = client(port, 2);
  const c15 = client(port, 15);
  await c.set(`str:${tag}`, `hello-${tag}`);
  await c.set(`int:${tag}`, '12345');
  await c.set(Buffer.from([0, 255, 13, 10, 32, tag.charCodeAt(0)]), Buffer.from([1, 0, 2, 200]));
  await c.set(`ttl:${tag}`, 'v', 'EX', 100000);
  await c.set(`pxat:${tag}`, 'v', 'PXAT', 4102444800000);
  await c.incrbyfloat(`float:${tag}`, '1.5');
  await c.incrbyfloat(`float:${tag}`, '0.1');
  await c.rpush(`list:${tag}`, ...Array.from({ length: 150 }, (_, i) => `e${i}`));
  await c.lpop(`list:${tag}`);
  await c.rpush(`biglist:${tag}`, ...Array.from({ length: 200 }, (_, i) => 'x'.repeat(i)));
  await c.sadd(`set:${tag}`, ...Array.from({ length: 130 }, (_, i) => `m${i}`));
  await c.sadd(`intset:${tag}`, 1, 2, 3, -7, 100000);
  await c.hset(`hash:${tag}`, ...Array.from({ length: 140 }, (_, i) => [`f${i}`, `v${i}`]).flat());
  await c.hset(`smallhash:${tag}`, 'a', '1', 'b', '2');
  await c.zadd(`zset:${tag}`, ...Array.from({ length: 140 }, (_, i) => [String(i / 3), `z${i}`]).flat());
  await c.zadd(`zinf:${tag}`, '-inf', 'lo', '+inf', 'hi', '0.1', 'mid');
  await c.pexpireat(`zset:${tag}`, 4102444800000);
  await c.xadd(`stream:${tag}`, '1-1', 'a', '1', 'b', '2');
  await c.xadd(`stream:${tag}`, '2-0', 'a', '3');
  await c.xadd(`stream:${tag}`, '3-5', 'c', '4');
  await c.xdel(`stream:${tag}`, '2-0');
  await c.xgroup('CREATE', `stream:${tag}`, 'g1', '0');
  await c.xreadgroup('GROUP', 'g1', 'alice', 'COUNT', '1', 'STREAMS', `stream:${tag}`, '>');
  await c.call('XGROUP', 'CREATECONSUMER', `stream:${tag}`, 'g1', 'bob');
  await c.xgroup('CREATE', `stream:${tag}`, 'g2', '$');
  await c.xadd(`emptystream:${tag}`, '5-5', 'x', 'y');
  await c.xdel(`emptystream:${tag}`, '5-5');
  await c.multi().set(`tx1:${tag}`, 'a').incr(`tx2:${tag}`).lpush(`tx3:${tag}`, 'x', 'y').hincrbyfloat(`tx4:${tag}`, 'f', '2.5').exec();
  await c.set(`gone:${tag}`, 'x');
  await c.del(`gone:${tag}`);
  await c.set(`keepttl:${tag}`, 'a', 'EX', 50000);
  await c.set(`keepttl:${tag}`, 'b', 'KEEPTTL');
  await c.set(`persist:${tag}`, 'a', 'EX', 50000);
  await c.persist(`persist:${tag}`);
  await c2.set(`db2:${tag}`, 'two');
  await c2.incrbyfloat(`db2float:${tag}`, '3.25');
  await c2.hset(`db2hash:${tag}`, 'x', 'y');
  await c15.rpush(`db15:${tag}`, 'a', 'b');
  await c15.set(`db15ttl:${tag}`, 'v', 'PX', 900000);
}

export async function digest(port: number): Promise<string> {
  const c = client(port);
  const d = (await c.call('DEBUG', 'DIGEST')) as string;
  c.disconnect();
  return d;
}

export async function info(port: number, section = 'persistence'): Promise<Record<string, string>> {
  const c = client(port);
  const text = (await c.info(section)) as string;
  c.disconnect();
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Waits until no rewrite runs nor is scheduled and at least `count` rewrites were started. */
export async function waitRewriteDone(port: number, count: number): Promise<Record<string, string>> {
  let last: Record<string, string> = {};
  await waitFor(
    async () => {
      last = await info(port);
      return last.aof_rewrite_in_progress === '0' && last.aof_rewrite_scheduled === '0' && Number(last.aof_rewrites) >= count;
    },
    `AOF rewrite #${count} to finish`,
    20000,
  );
  return last;
}

export function listDir(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

export function copyDir(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const f of fs.readdirSync(from)) fs.copyFileSync(path.join(from, f), path.join(to, f));
}
