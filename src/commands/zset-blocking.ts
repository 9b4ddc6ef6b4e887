/**
 * BZPOPMIN BZPOPMAX BZMPOP: pop at once when a key has elements, else block the client until
 * one of the keys gets elements or the timeout passes (Redis 7.0 blockingGenericZpopCommand).
 *
 * Propagation: served at once, the command is propagated as `ZPOPMIN k` / `ZPOPMAX k` (with
 * the number popped for BZMPOP); served later, the blocked client's pop is propagated on its
 * own after the command that filled the key, in the same form.
 */
import type { Client } from '../net/client.js';
import { parseBlockTimeout } from '../server/blocking.js';
import { parseMpop, popAndReply, popPropagation, tryServeBlockingZpop, type PopShape, type Where } from './zset-pop.js';

function blockingZpop(c: Client, keys: string[], where: Where, timeoutMs: number, count: number, shape: PopShape): void {
  if (tryServeBlockingZpop(c, keys, where, count, shape)) return;
  const blocking = c.server.blocking;
  // Inside MULTI (or from the master link) a blocking command cannot block: it times out.
  if (!blocking.canBlock(c)) {
    c.w.nullArray();
    return;
  }
  const db = c.db;
  blocking.block(
    c,
    db,
    keys,
    timeoutMs,
    (key) => {
      const v = db.lookupWrite(key);
      if (v === undefined || typeof v === 'string' || v.type !== 'zset' || v.size === 0) return false;
      const n = popAndReply(c, key, v, where, count, shape);
      c.server.propagator.also(db.id, popPropagation(where, key, count, n));
      return true;
    },
    () => c.w.nullArray(),
  );
}

function bzpop(c: Client, argv: string[], where: Where): void {
  const timeout = parseBlockTimeout(c, argv[argv.length - 1]!);
  if (timeout === null) return;
  blockingZpop(c, argv.slice(1, -1), where, timeout, -1, { emitKey: true, nested: false });
}

export function bzpopminCommand(c: Client, argv: string[]): void {
  bzpop(c, argv, 'min');
}

export function bzpopmaxCommand(c: Client, argv: string[]): void {
  bzpop(c, argv, 'max');
}

export function bzmpopCommand(c: Client, argv: string[]): void {
  // numkeys, MIN|MAX and COUNT are checked before the timeout, as in Redis.
  const a = parseMpop(c, argv, 2);
  if (a === null) return;
  const timeout = parseBlockTimeout(c, argv[1]!);
  if (timeout === null) return;
  blockingZpop(c, a.keys, a.where, timeout, a.count, { emitKey: true, nested: true });
}
