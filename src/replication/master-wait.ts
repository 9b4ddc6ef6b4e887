/**
 * Waiting for replica acknowledgements: WAIT (replication.md §11) and SHUTDOWN's wait for
 * lagging replicas (§15). Both feed `REPLCONF GETACK *` and count online replicas whose
 * acknowledged offset reached a target; WAIT blocks through the generic blocking API
 * (keyless block, unblocked here or by its timeout / CLIENT UNBLOCK).
 */
import type { Client } from '../net/client.js';
import type { MasterSide } from './master.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';

export const WAIT_ON_REPLICA_ERROR =
  'ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.';

interface WaitRequest {
  c: Client;
  offset: number;
  numreplicas: number;
  /** The blocking module's entry: if it changed, the wait ended elsewhere (CLIENT UNBLOCK ERROR). */
  entry: unknown;
}

interface ShutdownWait {
  deadline: number;
  resolve: (proceed: boolean) => void;
}

export class AckWaits {
  private readonly waiters = new Map<Client, WaitRequest>();
  private shutdownWait: ShutdownWait | null = null;

  constructor(private readonly m: MasterSide) {}

  /** Someone waits for ACKs (an ACK should be looked at before the loop sleeps). */
  get active(): boolean {
    return this.waiters.size > 0 || this.shutdownWait !== null;
  }

  forget(c: Client): void {
    this.waiters.delete(c);
  }

  waitCommand(c: Client, argv: string[]): void {
    if (this.m.repl.isReplica) {
      c.w.error(WAIT_ON_REPLICA_ERROR);
      return;
    }
    const numreplicas = parseInt64(argv[1]!);
    if (numreplicas === null) {
      c.w.error(Err.notInteger);
      return;
    }
    const timeout = parseInt64(argv[2]!);
    if (timeout === null) {
      c.w.error('ERR timeout is not an integer or out of range');
      return;
    }
    if (timeout < 0) {
      c.w.error('ERR timeout is negative');
      return;
    }
    if (timeout > 0 && timeout > Number.MAX_SAFE_INTEGER - Date.now()) {
      c.w.error('ERR timeout is out of range');
      return;
    }
    const offset = c.woff;
    const acks = this.m.countAcks(offset);
    if (acks >= numreplicas || c.flags.multi || !this.m.server.blocking.canBlock(c)) {
      c.w.int(acks);
      return;
    }
    this.m.server.blocking.blockKeyless(c, timeout, () => {
      this.waiters.delete(c);
      c.w.int(this.m.countAcks(offset));
    });
    this.waiters.set(c, { c, offset, numreplicas, entry: c.blockState });
    this.m.requestAcks();
  }

  /** Answers the WAITs whose replicas acknowledged enough (Redis processClientsWaitingReplicas). */
  processWaiters(): void {
    if (this.waiters.size === 0) return;
    for (const w of [...this.waiters.values()]) {
      if (w.c.blockState !== w.entry || w.c.flags.closed) {
        this.waiters.delete(w.c);
        continue;
      }
      const n = this.m.countAcks(w.offset);
      if (n < w.numreplicas) continue;
      this.waiters.delete(w.c);
      w.c.w.int(n);
      this.m.server.blocking.unblock(w.c);
    }
  }

  /**
   * Gives lagging replicas `shutdown-timeout` seconds to catch up (unless `now`): GETACK,
   * writes paused, then resolves true to proceed, or false when SHUTDOWN ABORT cancelled it.
   */
  beforeShutdown(now: boolean): Promise<boolean> {
    if (now || this.m.server.config.int('shutdown-timeout') === 0 || this.readyToShutdown()) {
      this.logLaggingReplicas();
      return Promise.resolve(true);
    }
    const server = this.m.server;
    this.m.sendGetack();
    server.pauseClients('shutdown', Infinity, true);
    server.logger.notice('Waiting for replicas before shutting down.');
    return new Promise<boolean>((resolve) => {
      this.shutdownWait = { deadline: Date.now() + server.config.int('shutdown-timeout') * 1000, resolve };
    });
  }

  private readyToShutdown(): boolean {
    const off = this.m.repl.masterReplOffset;
    for (const r of this.m.replicas) if (r.ackOff !== off) return false;
    return true;
  }

  /** Every cron tick: the shutdown wait ends when all replicas caught up, or at the deadline. */
  cron(now: number): void {
    const w = this.shutdownWait;
    if (w === null) return;
    if (now < w.deadline && !this.readyToShutdown()) return;
    this.shutdownWait = null;
    this.logLaggingReplicas();
    this.endShutdownPause(w);
    w.resolve(true);
  }

  private endShutdownPause(w: ShutdownWait): void {
    void w;
    this.m.server.unpauseClients('shutdown');
  }

  private logLaggingReplicas(): void {
    const log = this.m.server.logger;
    const off = this.m.repl.masterReplOffset;
    const nowS = Math.floor(Date.now() / 1000);
    let lagging = 0;
    for (const r of this.m.replicas) {
      if (r.ackOff === off) continue;
      lagging++;
      const lag = r.state === 'online' ? nowS - Math.floor(r.ackTime / 1000) : 0;
      log.warning(`Lagging replica ${r.name} reported offset ${off - r.ackOff} behind master, lag=${lag}, state=${r.infoState}.`);
    }
    if (this.m.replicas.length > 0) {
      log.notice(`${this.m.replicas.length - lagging} of ${this.m.replicas.length} replicas are in sync when shutting down.`);
    }
  }

  /** SHUTDOWN ABORT: false when no shutdown is waiting. */
  abortShutdown(): boolean {
    const w = this.shutdownWait;
    if (w === null) return false;
    this.shutdownWait = null;
    this.endShutdownPause(w);
    this.m.server.logger.notice('Shutdown manually aborted.');
    w.resolve(false);
    return true;
  }
}
