/**
 * The replica side: our link to our master. (Being implemented: REPLICAOF, the handshake state
 * machine, transfer and load, applying the stream, ACKs, reconnection, promotion.)
 */
import type { Client } from '../net/client.js';
import type { Replication } from './replication.js';

export class ReplicaSide {
  /** A master is configured (REPLICAOF host port). */
  configured = false;
  /** The link is in the connected state. */
  linkUp = false;

  constructor(readonly repl: Replication) {}

  startFromConfig(): void {}

  cron(): void {}

  onClientClosed(_c: Client): void {}

  stop(): void {}

  /** Replica-only INFO lines, from master_host to replica_announced (replication.md §17). */
  infoLines(): string[] {
    return [];
  }
}
