/**
 * One client connection: its socket, request parser, reply writer and per-connection state
 * (selected DB, authentication, protocol version, transaction, subscriptions, blocking).
 *
 * Input is processed in batches: every command parsed from one socket read runs, then all
 * replies leave in one write. A client stops consuming input while it is blocked (BLPOP, WAIT,
 * CLIENT PAUSE), while its output is backed up beyond a threshold (so a client that never
 * reads cannot make the server buffer without bound), or after QUIT / a protocol error.
 */
import type { Socket } from 'node:net';
import { RequestParser } from '../protocol/resp-parser.js';
import { ReplyWriter } from '../protocol/reply-writer.js';
import { ProtocolError } from '../protocol/errors.js';
import type { Db } from '../keyspace/db.js';
import type { Server } from '../server/server.js';

/** Stop reading a client's requests while this much reply data waits in the socket. */
const OUTPUT_HIGH_WATER = 16 * 1024 * 1024;

export interface ClientFlags {
  /** This connection is our master (replica side): commands apply silently, no replies. */
  master: boolean;
  /** This connection is one of our replicas (master side). */
  replica: boolean;
  /** Inside MULTI. */
  multi: boolean;
  /** A WATCHed key was touched: EXEC will fail. */
  dirtyCas: boolean;
  /** A command failed to queue inside MULTI: EXEC will answer EXECABORT. */
  dirtyExec: boolean;
  /** Subscribed to channels/patterns (RESP2 restricts the allowed commands). */
  pubsub: boolean;
  /** MONITOR connection. */
  monitor: boolean;
  /** Close once the pending replies are written. */
  closeAfterReply: boolean;
  /** Waiting in a blocking command. */
  blocked: boolean;
  /** Connection is over a unix socket. */
  unixSocket: boolean;
  /** CLIENT NO-EVICT. */
  noEvict: boolean;
  /** Closed; must not be written to or processed any more. */
  closed: boolean;
}

export type ClientType = 'normal' | 'master' | 'replica' | 'pubsub';

export class Client {
  readonly id: number;
  readonly parser: RequestParser;
  readonly w = new ReplyWriter();
  db: Db;
  name = '';
  libName = '';
  libVer = '';
  authenticated: boolean;
  user = 'default';
  readonly flags: ClientFlags = {
    master: false,
    replica: false,
    multi: false,
    dirtyCas: false,
    dirtyExec: false,
    pubsub: false,
    monitor: false,
    closeAfterReply: false,
    blocked: false,
    unixSocket: false,
    noEvict: false,
    closed: false,
  };
  readonly createdAt: number;
  lastInteraction: number;
  /** Name of the last command run (CLIENT LIST cmd=). */
  lastCommand = 'NULL';
  /** CLIENT REPLY mode. */
  replyMode: 'on' | 'off' | 'skip' = 'on';
  readonly addr: string;
  readonly laddr: string;
  /**
   * Extension slots for subsystems (transactions, pub/sub, blocking, replication). Each
   * subsystem owns its own field and initialises it lazily, so this class stays small.
   */
  multiState: unknown = null;
  pubsubState: unknown = null;
  blockState: unknown = null;
  replState: unknown = null;
  /** master_repl_offset after this client's last command (WAIT). */
  woff = 0;
  private processing = false;
  private inputPaused = false;

  constructor(
    readonly server: Server,
    readonly socket: Socket | null,
    id: number,
  ) {
    this.id = id;
    this.db = server.keyspace.dbs[0]!;
    this.createdAt = server.clock.ms;
    this.lastInteraction = this.createdAt;
    this.authenticated = server.config.str('requirepass') === '';
    this.parser = new RequestParser(server.parserLimits);
    this.parser.unauthenticated = !this.authenticated;
    if (socket) {
      this.flags.unixSocket = socket.remoteAddress === undefined;
      this.addr = this.flags.unixSocket ? `${server.config.str('unixsocket')}:0` : `${socket.remoteAddress}:${socket.remotePort}`;
      this.laddr = this.flags.unixSocket ? `${server.config.str('unixsocket')}:0` : `${socket.localAddress}:${socket.localPort}`;
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('drain', () => this.onDrain());
      socket.on('error', () => this.close());
      socket.on('close', () => this.close());
    } else {
      this.addr = '';
      this.laddr = '';
    }
  }

  get type(): ClientType {
    if (this.flags.master) return 'master';
    if (this.flags.replica && !this.flags.monitor) return 'replica';
    if (this.flags.pubsub) return 'pubsub';
    return 'normal';
  }

  /** Bytes of replies queued for this client (in our writer and in the socket). */
  get outputBytes(): number {
    return this.w.pending + (this.socket ? this.socket.writableLength : 0);
  }

  private onData(chunk: Buffer): void {
    if (this.flags.closed) return;
    this.server.clock.update();
    this.lastInteraction = this.server.clock.ms;
    this.server.stats.netInputBytes += chunk.length;
    this.parser.feed(chunk);
    // As in Redis, the replication stream from our master is exempt from the limit.
    if (this.parser.bufferedBytes > this.server.parserLimits.maxQueryBuffer && !this.flags.master) {
      this.server.logger.warning(`Closing client that reached max query buffer length: ${this.describe()}`);
      this.close();
      return;
    }
    this.processInput();
  }

  /**
   * Runs every complete command buffered in the parser, then flushes the replies.
   * Safe to call again after the client is unblocked or unpaused.
   */
  processInput(): void {
    if (this.processing || this.flags.closed) return;
    this.processing = true;
    try {
      while (!this.flags.blocked && !this.flags.closeAfterReply && !this.inputPaused) {
        // A peer that pipelines without reading its replies: stop running its commands once
        // they back up (the rest wait in the parser; flush() pauses the socket until 'drain').
        // Checked per command, since one read can hold thousands of commands with big replies.
        if (this.outputBytes > OUTPUT_HIGH_WATER && !this.flags.replica && !this.flags.master) break;
        let argv: string[] | null;
        try {
          argv = this.parser.next();
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
          this.protocolError(e.message);
          break;
        }
        if (argv === null) break;
        if (argv.length === 0) {
          this.server.onEmptyRequest(this);
          continue;
        }
        this.server.dispatch(this, argv);
      }
    } finally {
      this.processing = false;
    }
    this.flush();
  }

  private protocolError(msg: string): void {
    if (this.flags.master) {
      this.server.logger.warning(`Protocol error (${msg}) from master: closing the link`);
    } else {
      this.server.logger.verbose(`Protocol error (${msg}) from client: ${this.describe()}`);
    }
    this.w.enabled = true;
    this.w.error(msg);
    this.flags.closeAfterReply = true;
  }

  /** Sends everything the writer holds; closes afterwards if asked to. */
  flush(): void {
    const sock = this.socket;
    if (!sock || this.flags.closed) {
      this.w.discard();
      return;
    }
    // AOF hook (appendfsync always): replies wait until what they acknowledge is on disk.
    if (this.w.pending > 0 && this.server.persistence.aof.holdReply(this)) return;
    const chunks = this.w.take();
    // A replica link carries only the replication stream (written by the master side).
    if (chunks !== null && this.flags.replica && !this.flags.monitor && this.server.repl.master.replicaGeneratedReply(this)) return;
    if (chunks !== null) {
      let bytes = 0;
      if (chunks.length === 1) {
        bytes = chunks[0]!.length;
        sock.write(chunks[0]!);
      } else {
        sock.cork();
        for (const c of chunks) {
          bytes += c.length;
          sock.write(c);
        }
        sock.uncork();
      }
      this.server.stats.netOutputBytes += bytes;
      if (!this.inputPaused && sock.writableLength > OUTPUT_HIGH_WATER && !this.flags.replica) {
        // The peer is not reading: stop reading its requests until the replies drain.
        this.inputPaused = true;
        sock.pause();
      }
      if (this.server.checkOutputLimits(this)) return;
    }
    if (this.flags.closeAfterReply) {
      this.flags.closed = true;
      sock.end();
      this.server.onClientClosed(this);
    }
  }

  private onDrain(): void {
    if (this.inputPaused) {
      this.inputPaused = false;
      this.socket?.resume();
      this.processInput();
    } else if (!this.parser.idle) {
      // Commands left waiting by an output backlog (see processInput).
      this.processInput();
    }
  }

  /** Closes the connection now, dropping pending replies. */
  close(): void {
    if (this.flags.closed) return;
    this.flags.closed = true;
    this.w.discard();
    this.socket?.destroy();
    this.server.onClientClosed(this);
  }

  /** A one-line description for logs. */
  describe(): string {
    return `id=${this.id} addr=${this.addr} laddr=${this.laddr} name=${this.name}`;
  }
}
