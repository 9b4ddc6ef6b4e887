/**
 * One attempt to synchronise with our master, over one TCP connection: connect, the handshake,
 * PSYNC (or legacy SYNC), and for a full resync the reception of the RDB payload into a temp
 * file (replication.md §2–§4). It ends in exactly one of:
 *
 *  - `onContinue`  the master accepted a partial resync: the socket becomes the stream;
 *  - `onPayload`   the payload is on disk (socket paused; bytes after it kept as leftover);
 *  - `onFailure`   anything went wrong; the socket is closed and the temp file removed.
 *
 * States follow Redis's `repl_state` (connecting → receive-ping-reply → the pipelined handshake
 * replies → receive-psync-reply → transfer). Replies are read line by line (LF-terminated, CR
 * stripped) exactly as Redis's syncReadLine does, so keepalive newlines are empty lines.
 */
import net from 'node:net';
import fs from 'node:fs';
import { encodeCommand } from '../protocol/encode.js';
import type { Server } from '../server/server.js';
import { PayloadPreloader } from './replica-load.js';

export type SyncState =
  | 'connecting'
  | 'receive-ping-reply'
  | 'receive-auth-reply'
  | 'receive-port-reply'
  | 'receive-ip-reply'
  | 'receive-capa-reply'
  | 'receive-psync-reply'
  | 'transfer';

/** What the attempt needs from, and reports to, the replica side. */
export interface SyncHost {
  readonly server: Server;
  /** PSYNC arguments (the cached master), or null for `PSYNC ? -1`. */
  psyncTarget(): { replid: string; offset: number } | null;
  /** Append FAILOVER to PSYNC (this master is handing over to the target, §14). */
  readonly psyncFailover: boolean;
  onContinue(link: SyncLink, newReplid: string | null, leftover: Buffer): void;
  onFullResync(link: SyncLink): void;
  onPayload(link: SyncLink, leftover: Buffer): void;
  onFailure(link: SyncLink, reconnectNow: boolean): void;
}

const EOF_MARK_SIZE = 40;
const EMPTY = Buffer.alloc(0);

export class SyncLink {
  state: SyncState = 'connecting';
  socket: net.Socket | null = null;
  /** Last time data arrived or the attempt progressed (ms), for repl-timeout. */
  lastIo: number;
  /** From +FULLRESYNC (empty if its syntax was wrong). */
  masterReplid = '';
  /** From +FULLRESYNC; -1 after legacy SYNC. */
  initialOffset = -1;
  /** Payload framing: 40-byte end mark (diskless master) or null for `$<len>`. */
  eofMark: Buffer | null = null;
  /** master_sync_total_bytes: -1 until the bulk header arrived, 0 in EOF mode. */
  transferSize = -1;
  /** master_sync_read_bytes. */
  transferRead = 0;
  /** Temp file holding the payload (`temp-<unixtime>.<pid>.rdb` in the working dir). */
  tmpPath = '';
  /** True once the payload is complete (the replica side is loading it). */
  received = false;
  /** Parses the payload while it arrives (when our dataset was empty), else null. */
  private preloader: PayloadPreloader | null = null;
  private inbuf: Buffer = EMPTY;
  private expected: SyncState[] = [];
  private fd = -1;
  private tail: Buffer = EMPTY;
  private finished = false;

  constructor(
    private readonly host: SyncHost,
    readonly masterHost: string,
    readonly masterPort: number,
  ) {
    this.lastIo = Date.now();
  }

  private get server(): Server {
    return this.host.server;
  }

  start(): void {
    const sock = net.connect({ host: this.masterHost, port: this.masterPort });
    this.socket = sock;
    sock.setNoDelay(true);
    sock.on('connect', () => this.onConnect());
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', (e: NodeJS.ErrnoException) => this.onSocketError(e));
    sock.on('close', () => this.onSocketError(null));
    this.server.logger.notice('MASTER <-> REPLICA sync started');
  }

  private onConnect(): void {
    if (this.finished) return;
    this.lastIo = Date.now();
    this.server.logger.notice('Non blocking connect for SYNC fired the event.');
    this.state = 'receive-ping-reply';
    this.socket!.write(encodeCommand(['PING']));
  }

  private onSocketError(e: NodeJS.ErrnoException | null): void {
    if (this.finished) return;
    const log = this.server.logger;
    const why = e ? strerror(e) : 'connection lost';
    if (this.state === 'transfer') {
      if (this.received) return; // loading: noticed when the stream starts
      log.warning(`I/O error trying to sync with MASTER: ${why}`);
      this.fail(true);
    } else {
      log.warning(`Error condition on socket for SYNC: ${why}`);
      this.fail(false);
    }
  }

  private onData(chunk: Buffer): void {
    if (this.finished) return;
    this.lastIo = Date.now();
    this.inbuf = this.inbuf.length === 0 ? chunk : Buffer.concat([this.inbuf, chunk]);
    this.drive();
  }

  /** Takes one LF-terminated line (CR stripped) from the input, or null if incomplete. */
  private takeLine(): string | null {
    const nl = this.inbuf.indexOf(10);
    if (nl === -1) return null;
    let end = nl;
    if (end > 0 && this.inbuf[end - 1] === 13) end--;
    const line = this.inbuf.latin1Slice(0, end);
    this.inbuf = this.inbuf.subarray(nl + 1);
    return line;
  }

  private drive(): void {
    const log = this.server.logger;
    while (!this.finished) {
      if (this.state === 'transfer') {
        this.receivePayload();
        return;
      }
      if (this.state === 'connecting') return;
      const line = this.takeLine();
      if (line === null) return;
      switch (this.state) {
        case 'receive-ping-reply':
          // Replies to PING that only mean "authenticate first" are fine: AUTH comes next.
          if (
            line.startsWith('-') &&
            !line.startsWith('-NOAUTH') &&
            !line.startsWith('-NOPERM') &&
            !line.startsWith('-ERR operation not permitted')
          ) {
            log.warning(`Error reply to PING from master: '${line}'`);
            this.fail(false);
            return;
          }
          log.notice('Master replied to PING, replication can continue...');
          this.sendHandshake();
          break;
        case 'receive-auth-reply':
          if (line.startsWith('-')) {
            log.warning(`Unable to AUTH to MASTER: ${line}`);
            this.fail(false);
            return;
          }
          this.nextExpected();
          break;
        case 'receive-port-reply':
          if (line.startsWith('-')) log.notice(`(Non critical) Master does not understand REPLCONF listening-port: ${line}`);
          this.nextExpected();
          break;
        case 'receive-ip-reply':
          if (line.startsWith('-')) log.notice(`(Non critical) Master does not understand REPLCONF ip-address: ${line}`);
          this.nextExpected();
          break;
        case 'receive-capa-reply':
          if (line.startsWith('-')) log.notice(`(Non critical) Master does not understand REPLCONF capa: ${line}`);
          this.nextExpected();
          break;
        case 'receive-psync-reply':
          this.onPsyncReply(line);
          break;
      }
    }
  }

  /** AUTH, REPLCONF listening-port, ip-address, capa: written together, replies read in order. */
  private sendHandshake(): void {
    const cfg = this.server.config;
    const cmds: string[][] = [];
    const expected: SyncState[] = [];
    const pass = cfg.str('masterauth');
    if (pass !== '') {
      const user = cfg.str('masteruser');
      cmds.push(user !== '' ? ['AUTH', user, pass] : ['AUTH', pass]);
      expected.push('receive-auth-reply');
    }
    const port = cfg.int('replica-announce-port') || cfg.int('port');
    cmds.push(['REPLCONF', 'listening-port', String(port)]);
    expected.push('receive-port-reply');
    const ip = cfg.str('replica-announce-ip');
    if (ip !== '') {
      cmds.push(['REPLCONF', 'ip-address', ip]);
      expected.push('receive-ip-reply');
    }
    cmds.push(['REPLCONF', 'capa', 'eof', 'capa', 'psync2']);
    expected.push('receive-capa-reply');
    this.socket!.write(Buffer.concat(cmds.map((c) => encodeCommand(c))));
    this.expected = expected;
    this.state = expected.shift()!;
  }

  private nextExpected(): void {
    const next = this.expected.shift();
    if (next !== undefined) this.state = next;
    else this.sendPsync();
  }

  private sendPsync(): void {
    const log = this.server.logger;
    const target = this.host.psyncTarget();
    let argv: string[];
    if (target !== null) {
      const off = String(target.offset + 1);
      log.notice(`Trying a partial resynchronization (request ${target.replid}:${off}).`);
      argv = ['PSYNC', target.replid, off];
    } else {
      log.notice('Partial resynchronization not possible (no cached master)');
      argv = ['PSYNC', '?', '-1'];
    }
    if (this.host.psyncFailover) argv.push('FAILOVER');
    this.initialOffset = -1;
    this.socket!.write(encodeCommand(argv));
    this.state = 'receive-psync-reply';
  }

  /** The PSYNC reply table of replication.md §2.4. */
  private onPsyncReply(line: string): void {
    const log = this.server.logger;
    // Empty lines keep the link alive while the master prepares the sync.
    if (line === '') return;
    if (line.startsWith('+FULLRESYNC')) {
      const parts = line.split(' ');
      const id = parts[1];
      const off = parts[2];
      if (id === undefined || off === undefined || id.length !== 40) {
        log.warning('Master replied with wrong +FULLRESYNC syntax.');
        // The reply means PSYNC is supported but its shape is wrong: blank the id so that a
        // later PSYNC cannot wrongly succeed.
        this.masterReplid = '';
      } else {
        this.masterReplid = id;
        this.initialOffset = strtoll(off);
        log.notice(`Full resync from master: ${id}:${this.initialOffset}`);
      }
      this.host.onFullResync(this);
      // FAILOVER: the target took over (a full resync is unusual but not a failure, §14).
      if (this.host.psyncFailover) this.server.repl.master.failover.targetAccepted();
      this.beginTransfer();
      return;
    }
    if (line.startsWith('+CONTINUE')) {
      if (this.host.psyncTarget() === null) {
        log.warning(`Unexpected reply to PSYNC from master: ${line}`);
        this.fail(false);
        return;
      }
      const rest = line.slice(10);
      const newId = rest.length === 40 ? rest : null;
      const leftover = this.inbuf;
      const failover = this.host.psyncFailover;
      this.detach();
      this.host.onContinue(this, newId, leftover);
      if (failover) this.server.repl.master.failover.targetAccepted();
      return;
    }
    if (line.startsWith('-NOMASTERLINK') || line.startsWith('-LOADING')) {
      log.notice(`Master is currently unable to PSYNC but should be in the future: ${line}`);
      this.fail(false);
      return;
    }
    if (!line.startsWith('-ERR')) log.warning(`Unexpected reply to PSYNC from master: ${line}`);
    else log.notice(`Master does not support PSYNC or is in error state (reply: ${line})`);
    if (this.host.psyncFailover) {
      // A FAILOVER target that refused must not be asked for SYNC instead (we would end up
      // replicating from our own replica): the failover is aborted (Redis abortFailover).
      this.fail(false);
      this.server.repl.master.failover.targetRefused(line);
      return;
    }
    log.notice('Retrying with SYNC...');
    this.socket!.write('SYNC\r\n');
    this.beginTransfer();
  }

  private beginTransfer(): void {
    const mode = this.server.config.str('repl-diskless-load');
    if (mode !== 'disabled') {
      this.server.logger.notice(`repl-diskless-load ${mode} is not implemented by Mirra: the payload is loaded through a temp file on disk`);
    }
    // The temp file is created now, as Redis does, so a full disk fails before the transfer.
    const name = `temp-${Math.floor(Date.now() / 1000)}.${process.pid}.rdb`;
    try {
      this.fd = fs.openSync(name, 'wx', 0o644);
    } catch (e) {
      this.server.logger.warning(`Opening the temp file needed for MASTER <-> REPLICA synchronization: ${strerror(e as NodeJS.ErrnoException)}`);
      this.fail(false);
      return;
    }
    this.tmpPath = name;
    if (this.server.keyspace.keyCount === 0) this.preloader = new PayloadPreloader(this.server);
    this.state = 'transfer';
    this.transferSize = -1;
    this.transferRead = 0;
    this.lastIo = Date.now();
  }

  /** §4: the bulk header line, then the payload in either framing. */
  private receivePayload(): void {
    const log = this.server.logger;
    while (this.transferSize === -1 && this.eofMark === null) {
      const line = this.takeLine();
      if (line === null) return;
      if (line.startsWith('-')) {
        log.warning(`MASTER aborted replication with an error: ${line.slice(1)}`);
        this.fail(true);
        return;
      }
      if (line === '') continue; // keepalive while the master's BGSAVE runs
      if (!line.startsWith('$')) {
        log.warning(`Bad protocol from MASTER, the first byte is not '$' (we received '${line}'), are you sure the host and port are right?`);
        this.fail(true);
        return;
      }
      if (line.startsWith('$EOF:') && line.length >= 5 + EOF_MARK_SIZE) {
        this.eofMark = Buffer.from(line.slice(5, 5 + EOF_MARK_SIZE), 'latin1');
        this.transferSize = 0;
        log.notice('MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk');
      } else {
        const size = strtoll(line.slice(1));
        if (size < 0) {
          // -1 would read as "no header yet" (the rest taken for lines), any other negative
          // size as a nonsense byte count: neither can frame a payload.
          log.warning(`Bad protocol from MASTER, the payload length is invalid (we received '${line}'), are you sure the host and port are right?`);
          this.fail(true);
          return;
        }
        this.transferSize = size;
        log.notice(`MASTER <-> REPLICA sync: receiving ${this.transferSize} bytes from master to disk`);
      }
    }
    if (this.inbuf.length === 0) {
      if (this.eofMark === null && this.transferRead >= this.transferSize) this.payloadDone(EMPTY);
      return;
    }
    const data = this.inbuf;
    this.inbuf = EMPTY;
    if (this.eofMark !== null) {
      this.transferRead += data.length;
      // Hold back the last 40 bytes: they may be the end mark, which is not part of the RDB.
      if (data.length >= EOF_MARK_SIZE) {
        if (!this.write(this.tail) || !this.write(data.subarray(0, data.length - EOF_MARK_SIZE))) return;
        this.tail = data.subarray(data.length - EOF_MARK_SIZE);
      } else {
        const joined = Buffer.concat([this.tail, data]);
        const cut = Math.max(0, joined.length - EOF_MARK_SIZE);
        if (!this.write(joined.subarray(0, cut))) return;
        this.tail = joined.subarray(cut);
      }
      if (this.tail.length === EOF_MARK_SIZE && this.tail.equals(this.eofMark)) this.payloadDone(EMPTY);
      return;
    }
    const want = this.transferSize - this.transferRead;
    const n = Math.min(want, data.length);
    if (!this.write(data.subarray(0, n))) return;
    this.transferRead += n;
    if (this.transferRead >= this.transferSize) this.payloadDone(data.subarray(n));
  }

  private write(buf: Buffer): boolean {
    let off = 0;
    try {
      while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off);
      this.preloader?.feed(buf);
      return true;
    } catch (e) {
      this.server.logger.warning(
        `Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA synchronization: ${strerror(e as NodeJS.ErrnoException)}`,
      );
      this.fail(true);
      return false;
    }
  }

  private payloadDone(leftover: Buffer): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // Closing a file we only wrote cannot lose data already written.
    }
    this.fd = -1;
    this.received = true;
    if (this.preloader !== null && !this.preloader.complete()) this.preloader = null;
    // Whatever follows belongs to the stream; it waits in the kernel until the load finished.
    this.socket!.pause();
    this.host.onPayload(this, leftover);
  }

  /** The dataset parsed during the transfer, complete and verified; null means load the file. */
  takePreloaded(): PayloadPreloader | null {
    const p = this.preloader;
    this.preloader = null;
    return p;
  }

  /** More bytes that arrived while the payload loads (the socket is paused, but be safe). */
  takeBuffered(): Buffer {
    const b = this.inbuf;
    this.inbuf = EMPTY;
    return b;
  }

  /** Hands the socket over: removes our listeners; the attempt is over. */
  detach(): net.Socket {
    this.finished = true;
    const sock = this.socket!;
    sock.removeAllListeners('data');
    sock.removeAllListeners('error');
    sock.removeAllListeners('close');
    sock.removeAllListeners('connect');
    // Keep errors from becoming uncaught until the new owner attaches its handlers.
    sock.on('error', () => {});
    return sock;
  }

  /** Ends the attempt without reporting (REPLICAOF, shutdown, timeouts handled by the caller). */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.cleanup();
  }

  private fail(reconnectNow: boolean): void {
    if (this.finished) return;
    this.finished = true;
    this.cleanup();
    this.host.onFailure(this, reconnectNow);
  }

  private cleanup(): void {
    this.socket?.destroy();
    this.preloader?.drop();
    this.preloader = null;
    if (this.fd !== -1) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // Already closed.
      }
      this.fd = -1;
    }
    this.removeTempFile();
  }

  removeTempFile(): void {
    if (this.tmpPath === '') return;
    try {
      fs.unlinkSync(this.tmpPath);
    } catch {
      // Already renamed or removed.
    }
    this.tmpPath = '';
  }
}

/** C strtoll on a decimal prefix: leading spaces and a sign allowed, stops at the first non-digit. */
function strtoll(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

/** strerror()-like text for socket and file errors, as Redis logs them. */
export function strerror(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'Connection refused';
    case 'ECONNRESET':
      return 'Connection reset by peer';
    case 'ETIMEDOUT':
      return 'Connection timed out';
    case 'EHOSTUNREACH':
      return 'No route to host';
    case 'ENETUNREACH':
      return 'Network is unreachable';
    case 'EPIPE':
      return 'Broken pipe';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'Name or service not known';
    case 'ENOSPC':
      return 'No space left on device';
    case 'EACCES':
      return 'Permission denied';
    case 'EEXIST':
      return 'File exists';
    default:
      return e.message;
  }
}
