/**
 * The master side: our replicas. (Being implemented: handshake answers, PSYNC/SYNC, backlog,
 * full sync from the fork-less snapshot, stream fan-out, ACKs, WAIT, min-replicas.)
 */
import type { Client } from '../net/client.js';
import type { Replication } from './replication.js';

export class MasterSide {
  failoverState: 'no-failover' | 'waiting-for-sync' | 'failover-in-progress' = 'no-failover';

  constructor(readonly repl: Replication) {}

  enoughGoodReplicas(): boolean {
    return true;
  }

  /** A command this node originated: SELECT if needed, append to backlog, send to replicas. */
  feedCommand(_db: number, _argv: readonly string[], _encoded: Buffer): void {}

  /** Bytes applied from our own master, forwarded verbatim (chained replication). */
  feedRaw(_buf: Buffer): void {}

  cron(): void {}

  onClientClosed(_c: Client): void {}

  async beforeShutdown(_now: boolean): Promise<void> {}

  abortShutdownWait(): boolean {
    return false;
  }

  stop(): void {}

  /** `connected_slaves`, `min_slaves_good_slaves`, `slaveN:...` lines. */
  infoReplicaListLines(): string[] {
    return ['connected_slaves:0'];
  }

  /** `repl_backlog_*` lines. */
  infoBacklogLines(): string[] {
    return [
      'repl_backlog_active:0',
      `repl_backlog_size:${this.repl.server.config.int('repl-backlog-size')}`,
      'repl_backlog_first_byte_offset:0',
      'repl_backlog_histlen:0',
    ];
  }
}
