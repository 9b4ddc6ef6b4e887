/**
 * Replication state of this node: role, replication ids and offsets, the master side (replica
 * links, backlog) and the replica side (link to our master). This file is the facade the rest
 * of the server talks to; the master and replica sides live in their own modules.
 */
import type { Server } from '../server/server.js';
import type { StreamSink } from '../server/propagate.js';
import { randomBytes } from 'node:crypto';
import type { Client } from '../net/client.js';

export function newReplid(): string {
  return randomBytes(20).toString('hex');
}

export class Replication implements StreamSink {
  replid = newReplid();
  replid2 = '0000000000000000000000000000000000000000';
  masterReplOffset = 0;
  secondReplOffset = -1;
  /** True when this node replicates from a master. */
  isReplica = false;
  /** True when the link with our master is up (state connected). */
  linkUp = false;

  constructor(readonly server: Server) {}

  /** min-replicas-to-write check for write commands (true when not configured). */
  enoughGoodReplicas(): boolean {
    return true;
  }

  feed(_db: number, _argv: readonly string[], _encoded: Buffer): void {
    // No replicas and no backlog yet.
  }

  cron(): void {}

  /** Starts replicating from `replicaof` in the config, once the dataset is loaded. */
  startFromConfig(): void {}

  onClientClosed(_c: Client): void {}

  /** SHUTDOWN: give lagging replicas a chance to catch up (unless `now`). */
  async beforeShutdown(_now: boolean): Promise<void> {}

  /** Cancels a SHUTDOWN waiting for lagging replicas; false when none is waiting. */
  abortShutdownWait(): boolean {
    return false;
  }

  /** Closes the master link and replica links (server stop). */
  stop(): void {}

  /** The `# Replication` INFO section body (lines without the header). */
  info(): string[] {
    return [
      'role:master',
      'connected_slaves:0',
      'master_failover_state:no-failover',
      `master_replid:${this.replid}`,
      `master_replid2:${this.replid2}`,
      `master_repl_offset:${this.masterReplOffset}`,
      `second_repl_offset:${this.secondReplOffset}`,
      'repl_backlog_active:0',
      `repl_backlog_size:${this.server.config.int('repl-backlog-size')}`,
      'repl_backlog_first_byte_offset:0',
      'repl_backlog_histlen:0',
    ];
  }
}
