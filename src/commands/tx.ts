/**
 * The tx command family: MULTI EXEC DISCARD WATCH UNWATCH. State and WATCH bookkeeping live in
 * server/transactions.ts; queueing is done by the dispatcher.
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';
import { Err } from '../protocol/errors.js';
import { call } from './dispatch.js';

function multi(c: Client): void {
  if (c.flags.multi) {
    c.w.error(Err.nestedMulti);
    return;
  }
  c.server.tx.begin(c);
  c.w.ok();
}

/**
 * EXEC is one top-level call and each queued command a nested call(): their effects are
 * collected by the propagator and leave as `MULTI, w1, w2, …, EXEC` when there are several,
 * or as the single command alone — Redis 7.0's propagatePendingCommands. EXEC's own argv is
 * never propagated.
 */
function exec(c: Client): void {
  const tx = c.server.tx;
  if (!c.flags.multi) {
    c.w.error(Err.execWithoutMulti);
    return;
  }
  const outcome = tx.execOutcome(c);
  if (outcome !== 'run') {
    if (outcome === 'abort') c.w.error(Err.execAbort);
    else c.w.nullArray();
    tx.discard(c);
    return;
  }
  const queued = tx.queued(c);
  // Unwatch first: the transaction's own writes must not mark this client.
  tx.unwatchAll(c);
  tx.setExecuting(c, true);
  c.server.propagator.prevent();
  c.w.array(queued.length);
  for (const q of queued) call(c, q.spec, q.argv);
  tx.discard(c);
}

function discard(c: Client): void {
  if (!c.flags.multi) {
    c.w.error(Err.discardWithoutMulti);
    return;
  }
  c.server.tx.discard(c);
  c.w.ok();
}

function watch(c: Client, argv: string[]): void {
  if (c.flags.multi) {
    c.w.error(Err.watchInsideMulti);
    return;
  }
  // Already doomed: watching more keys cannot change the outcome.
  if (!c.flags.dirtyCas) {
    for (let i = 1; i < argv.length; i++) c.server.tx.watch(c, argv[i]!);
  }
  c.w.ok();
}

function unwatch(c: Client): void {
  c.server.tx.unwatchAll(c);
  c.flags.dirtyCas = false;
  c.w.ok();
}

export const txCommands: CommandDef[] = [
  { name: 'multi', handler: multi },
  { name: 'exec', handler: exec },
  { name: 'discard', handler: discard },
  { name: 'watch', handler: watch },
  { name: 'unwatch', handler: unwatch },
];
