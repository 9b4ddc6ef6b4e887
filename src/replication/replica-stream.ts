/**
 * The synchronised master link: the replication stream our master sends us, applied as
 * commands of a special client (Redis's `server.master`).
 *
 * The connection becomes a normal `Client` flagged `master` (authenticated, replies discarded),
 * so its commands run through `server.dispatch` with every hook (keyspace events, WATCH, AOF),
 * but its bytes are read here rather than by the client's own input loop, because replication
 * needs the byte length of every command (replication.md §6, §9):
 *
 *  - `readReploff` (slave_read_repl_offset) grows with every byte read from the socket;
 *  - `reploff` (slave_repl_offset, what we ACK and PSYNC from) grows when a command has been
 *    executed completely — not inside a MULTI from the master, whose commands count at EXEC,
 *    so that a transaction cut by a disconnection is asked for again as a whole;
 *  - the bytes counted into `reploff` are handed to `onApplied`, which forwards them verbatim to
 *    our own replicas, so that they see the same ids and offsets as the top master.
 *
 * `REPLCONF GETACK` is answered here, with the offset *before* the GETACK itself, as Redis does
 * (the offset moves only once a command finished).
 */
import type { Socket } from 'node:net';
import { RequestParser } from '../protocol/resp-parser.js';
import { ProtocolError } from '../protocol/errors.js';
import { encodeCommand } from '../protocol/encode.js';
import type { Client } from '../net/client.js';
import type { Server } from '../server/server.js';

export interface MasterStreamOptions {
  /** The master's replication id (from +FULLRESYNC, or the cached master's). */
  replid: string;
  /** Offset of the last byte already applied (the sync point). */
  offset: number;
  /** DB the stream has selected (aux repl-stream-db, or the cached master's); -1 = default. */
  dbId: number;
  /** A master reached with legacy SYNC: it knows no offsets, so we never ACK it. */
  prePsync: boolean;
  /** Receives exactly the bytes of each run of fully applied commands, in order. */
  onApplied: (bytes: Buffer) => void;
}

/** The master link is unbounded: neither proto-max-bulk-len nor the query buffer limit apply. */
const MASTER_LINK_LIMITS = { maxBulkLen: Number.MAX_SAFE_INTEGER, maxQueryBuffer: Number.MAX_SAFE_INTEGER };

export class MasterStream {
  readonly client: Client;
  replid: string;
  /** Offset of the last fully executed command (Redis `reploff`). */
  reploff: number;
  /** Offset of the last byte read from the master (Redis `read_reploff`). */
  readReploff: number;
  readonly prePsync: boolean;
  /** When data last arrived (ms): master_last_io_seconds_ago and repl-timeout. */
  lastIo: number;
  /** Set when the link is dropped for a protocol violation: such a master is not cached. */
  protocolError = false;
  private readonly parser = new RequestParser({ ...MASTER_LINK_LIMITS });
  /** Offset corresponding to the first byte ever fed to the parser, minus one. */
  private readonly base: number;
  private fed = 0;
  /** Bytes read but not yet applied (forwarded in order once applied). */
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private forwardedOff: number;
  private processing = false;

  constructor(
    private readonly server: Server,
    readonly socket: Socket,
    private readonly opts: MasterStreamOptions,
  ) {
    this.replid = opts.replid;
    this.reploff = opts.offset;
    this.readReploff = opts.offset;
    this.base = opts.offset;
    this.forwardedOff = opts.offset;
    this.prePsync = opts.prePsync;
    const c = server.createClient(socket);
    // The master link is not an accepted connection (Redis counts only accepted ones).
    server.stats.connectionsReceived--;
    // Our own reader replaces the client's: it needs the byte length of every command.
    socket.removeAllListeners('data');
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    c.flags.master = true;
    c.authenticated = true;
    c.parser.unauthenticated = false;
    c.w.enabled = false;
    if (opts.dbId >= 0 && opts.dbId < server.keyspace.dbs.length) c.db = server.keyspace.dbs[opts.dbId]!;
    this.client = c;
    this.lastIo = server.clock.ms;
  }

  /** Bytes that arrived on the socket (or were left over from the sync) for the stream. */
  feed(chunk: Buffer): void {
    if (chunk.length === 0 || this.client.flags.closed) return;
    this.readReploff += chunk.length;
    this.fed += chunk.length;
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
    this.parser.feed(chunk);
    this.process();
  }

  private onData(chunk: Buffer): void {
    const server = this.server;
    server.clock.update();
    this.lastIo = server.clock.ms;
    this.client.lastInteraction = this.lastIo;
    this.feed(chunk);
  }

  /** Runs every complete command, then forwards what was applied. */
  private process(): void {
    if (this.processing) return;
    this.processing = true;
    const c = this.client;
    const server = this.server;
    try {
      while (!c.flags.closed) {
        let argv: string[] | null;
        try {
          argv = this.parser.next();
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
          this.dropForProtocolError(`Protocol error (${e.message}) from master: closing the link and discarding the cached master`);
          return;
        }
        if (argv === null) break;
        if (argv.length > 0) {
          if (this.parser.lastWasInline) {
            this.dropForProtocolError(
              'WARNING: Receiving inline protocol from master, master stream corruption? Closing the master connection and discarding the cached master.',
            );
            return;
          }
          if (isGetack(argv)) this.sendAck();
          server.dispatch(c, argv);
          if (c.flags.closed) return;
        }
        // Inside a MULTI from the master the offset waits for EXEC (Redis commandProcessed).
        if (!c.flags.multi) this.reploff = this.base + this.fed - this.parser.bufferedBytes;
      }
    } finally {
      this.processing = false;
    }
    this.forwardApplied();
  }

  /**
   * Drops a link whose stream is corrupt. The commands applied before the bad bytes (in the same
   * read) still go to our replicas and into our offset first, as Redis proxies each command as
   * soon as it ran: otherwise our own replicas would silently miss data we hold.
   */
  private dropForProtocolError(message: string): void {
    this.server.logger.warning(message);
    this.forwardApplied();
    this.protocolError = true;
    this.client.close();
  }

  private forwardApplied(): void {
    const n = this.reploff - this.forwardedOff;
    if (n <= 0) return;
    this.forwardedOff = this.reploff;
    this.opts.onApplied(this.takePending(n));
  }

  /** Removes the first n pending bytes and returns them as one buffer. */
  private takePending(n: number): Buffer {
    this.pendingLen -= n;
    const first = this.pending[0]!;
    if (first.length === n) {
      this.pending.shift();
      return first;
    }
    if (first.length > n) {
      this.pending[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const b = this.pending[0]!;
      const take = Math.min(b.length, n - filled);
      b.copy(out, filled, 0, take);
      filled += take;
      if (take === b.length) this.pending.shift();
      else this.pending[0] = b.subarray(take);
    }
    return out;
  }

  /** `REPLCONF ACK <processed offset>` (once a second, on GETACK, after an EOF-framed load). */
  sendAck(): void {
    if (this.prePsync || this.client.flags.closed || this.socket.destroyed) return;
    const buf = encodeCommand(['REPLCONF', 'ACK', String(this.reploff)]);
    this.socket.write(buf);
  }
}

function isGetack(argv: string[]): boolean {
  return argv.length >= 2 && argv[0]!.length === 8 && argv[0]!.toLowerCase() === 'replconf' && argv[1]!.toLowerCase() === 'getack';
}
