/**
 * Blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK, WAIT ...): clients waiting on keys or on
 * replication acknowledgements, their timeouts, and serving them when keys become ready.
 */
import type { Client } from '../net/client.js';
import type { Server } from './server.js';

export class Blocking {
  constructor(readonly server: Server) {}

  /** Serves clients blocked on keys that became ready during the last command. */
  handleReadyKeys(): void {}

  /** Times out blocked clients whose deadline passed. */
  cron(): void {}

  onClientClosed(_c: Client): void {}
}
