/**
 * One replica as the master sees it (Redis keeps these fields on the replica's `client`):
 * what it announced with REPLCONF, its replication state, its acknowledged offset, and where
 * it stands in the shared replication buffer.
 *
 * The link is created by the first REPLCONF (or by SYNC/PSYNC) and stored in `c.replState`;
 * it joins the master's replica list only when SYNC/PSYNC flags the client as a replica.
 */
import type { Readable } from 'node:stream';
import type { Client } from '../net/client.js';
import type { FullSync } from './master-sync.js';

/** Redis's SLAVE_STATE_*; INFO shows the first two as `wait_bgsave`. */
export type ReplicaState = 'wait_bgsave_start' | 'wait_bgsave_end' | 'send_bulk' | 'online';

/** SLAVE_CAPA_* bits. */
export const CAPA_EOF = 1;
export const CAPA_PSYNC2 = 2;
/** SLAVE_REQ_* bits (REPLCONF rdb-filter-only). */
export const REQ_RDB_EXCLUDE_DATA = 1;
export const REQ_RDB_EXCLUDE_FUNCTIONS = 2;

export class ReplicaLink {
  // --- Announced with REPLCONF
  /** listening-port (0 = unknown). */
  listeningPort = 0;
  /** ip-address ('' = use the peer address). */
  announcedIp = '';
  capa = 0;
  /** rdb-filter-only requirements. */
  req = 0;
  /** rdb-only: the client wants the RDB and no stream (redis-cli --rdb). */
  rdbOnly = false;

  // --- Set by SYNC/PSYNC
  /** In the master's replica list (the client is flagged replica). */
  attached = false;
  state: ReplicaState = 'wait_bgsave_start';
  /** Legacy SYNC: no +FULLRESYNC, no ACKs expected (Redis CLIENT_PRE_PSYNC). */
  prePsync = false;
  /** Highest offset acknowledged with REPLCONF ACK. */
  ackOff = 0;
  /** When the last REPLCONF ACK arrived (ms). */
  ackTime = 0;
  /** master_repl_offset when the snapshot this replica loads was started. */
  initialOffset = -1;
  /** Offset of the next stream byte to send; -1 while not attached to the stream. */
  pos = -1;
  /** EOF-framed full sync done: stream held until the replica's first ACK (§4). */
  holdUntilAck = false;
  /** The full sync (snapshot) this replica is attached to. */
  sync: FullSync | null = null;
  /** Last time a diskless transfer made progress (ms); 0 = never. */
  lastPartialWrite = 0;
  /** Since when the soft output limit has been exceeded (ms); 0 = not exceeded. */
  softLimitSince = 0;
  /** Disk-based sync: the file being sent. */
  bulk: Readable | null = null;
  /** A 'drain' is awaited before more stream data is written. */
  waitingDrain = false;
  /** The drain listener installed on the socket (removed when the link goes away). */
  drainListener: (() => void) | null = null;

  constructor(readonly c: Client) {}

  get capaEof(): boolean {
    return (this.capa & CAPA_EOF) !== 0;
  }

  get capaPsync2(): boolean {
    return (this.capa & CAPA_PSYNC2) !== 0;
  }

  /** The address shown in INFO and ROLE: the announced one, or the peer's (IPv4-mapped prefix removed). */
  get ip(): string {
    if (this.announcedIp !== '') return this.announcedIp;
    return peerIp(this.c);
  }

  /** Redis's replicationGetSlaveName: `ip:port`, `[ipv6]:port`, `ip:<unknown-replica-port>`. */
  get name(): string {
    const ip = this.ip;
    if (ip === '') return `client id #${this.c.id}`;
    if (this.listeningPort === 0) return `${ip}:<unknown-replica-port>`;
    return ip.includes(':') ? `[${ip}]:${this.listeningPort}` : `${ip}:${this.listeningPort}`;
  }

  /** The state word of INFO's `slaveN` lines. */
  get infoState(): string {
    switch (this.state) {
      case 'wait_bgsave_start':
      case 'wait_bgsave_end':
        return 'wait_bgsave';
      case 'send_bulk':
        return 'send_bulk';
      case 'online':
        return 'online';
    }
  }
}

export function peerIp(c: Client): string {
  const a = c.socket?.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** The link of a client, created on first use. */
export function linkOf(c: Client): ReplicaLink {
  let l = c.replState as ReplicaLink | null;
  if (l === null || !(l instanceof ReplicaLink)) {
    l = new ReplicaLink(c);
    c.replState = l;
  }
  return l;
}

/** The link of a client flagged replica by us, or null. */
export function attachedLink(c: Client): ReplicaLink | null {
  const l = c.replState;
  return l instanceof ReplicaLink && l.attached ? l : null;
}
