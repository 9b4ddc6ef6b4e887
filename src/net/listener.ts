/**
 * TCP and unix-socket listeners with Redis 7.0's admission rules: `bind` addresses (default
 * `* -::*`, where a leading '-' means "skip if the address is unavailable"), `maxclients`, and
 * `protected-mode` (no password: refuse non-loopback peers with Redis's DENIED text; since 7.0
 * this holds whatever `bind` says).
 *
 * CONFIG SET port / bind re-bind at runtime like Redis's changeListenPort / changeBindAddr:
 * the old sockets close, the new ones open, and on failure the old ones are restored and
 * CONFIG SET answers an error. Connected clients are not affected.
 */
import net from 'node:net';
import fs from 'node:fs';
import type { Server } from '../server/server.js';
import { ConfigError, fsPath } from '../config/config.js';
import { osErrorText } from '../server/logger.js';

export const PROTECTED_MODE_MSG =
  '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command \'CONFIG SET protected-mode no\' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to \'no\', and then restarting the server. 3) If you started the server manually just for testing, restart it with the \'--protected-mode no\' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n';

export const MAX_CLIENTS_MSG = '-ERR max number of clients reached\r\n';

/** Is the peer on the loopback interface (Redis's connIsLocal)? Unix sockets are local. */
export function isLoopback(addr: string | undefined): boolean {
  if (addr === undefined) return true;
  return addr.startsWith('127.') || addr === '::1' || addr.startsWith('::ffff:127.');
}

/**
 * Protected mode's decision for a new connection: refused when protected-mode is on, the
 * default user has no password, and the peer is not local.
 */
export function protectedModeRefuses(opts: { protectedMode: boolean; requirepass: string; remoteAddress: string | undefined; unix: boolean }): boolean {
  return opts.protectedMode && opts.requirepass === '' && !opts.unix && !isLoopback(opts.remoteAddress);
}

export class Listeners {
  private tcp: net.Server[] = [];
  private unix: net.Server | null = null;
  listening = false;
  /** Addresses actually bound (for logs and INFO). */
  bound: string[] = [];

  constructor(private readonly server: Server) {
    server.config.onApply('port', () => this.rebind('Unable to listen on this port. Check server logs.'));
    server.config.onApply('bind', () => this.rebind('Failed to bind to specified addresses.'));
  }

  async listen(): Promise<void> {
    const cfg = this.server.config;
    const log = this.server.logger;
    const port = cfg.int('port');
    try {
      this.tcp = await this.openTcp(port, cfg.get<string[]>('bind'));
    } catch (e) {
      log.warning((e as Error).message);
      log.warning(`Failed listening on port ${port} (TCP), aborting.`);
      throw new ListenError(`Failed listening on port ${port} (TCP), aborting.`);
    }
    const sock = cfg.str('unixsocket');
    if (sock) {
      try {
        this.unix = await this.openUnix(fsPath(sock), cfg.int('unixsocketperm'));
      } catch (e) {
        this.close();
        const msg = `Failed opening Unix socket: ${osErrorText(e as NodeJS.ErrnoException)}`;
        log.warning(msg);
        throw new ListenError(msg);
      }
      log.notice(`The server is now ready to accept connections at ${sock}`);
    }
    if (this.tcp.length === 0 && this.unix === null) {
      log.warning('Configured to not listen anywhere, exiting.');
      throw new ListenError('Configured to not listen anywhere, exiting.');
    }
    this.listening = true;
  }

  /** The TCP port actually bound. */
  get address(): net.AddressInfo | null {
    for (const s of this.tcp) {
      const a = s.address();
      if (a && typeof a === 'object') return a;
    }
    return null;
  }

  /**
   * Opens every `bind` address on `port` (none when port is 0). Throws an Error whose message
   * is Redis's "Could not create server TCP listening socket" line; nothing stays open then.
   */
  private async openTcp(port: number, binds: readonly string[]): Promise<net.Server[]> {
    const opened: net.Server[] = [];
    const addrs: string[] = [];
    if (port === 0) return opened;
    for (const raw of binds) {
      const optional = raw.startsWith('-');
      let addr = optional ? raw.slice(1) : raw;
      if (addr === '*') addr = '0.0.0.0';
      if (addr === '::*') addr = '::';
      try {
        opened.push(await this.listenTcp(addr, port));
        addrs.push(addr);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (optional && (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT' || err.code === 'EPROTONOSUPPORT')) continue;
        for (const s of opened) s.close();
        throw new Error(`Warning: Could not create server TCP listening socket ${raw}:${port}: ${describeBindError(err)}`);
      }
    }
    this.bound = addrs;
    return opened;
  }

  private listenTcp(host: string, port: number): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const srv = net.createServer({ noDelay: true }, (s) => this.accept(s, false));
      srv.once('error', reject);
      srv.listen({ host, port, backlog: this.server.config.int('tcp-backlog'), ipv6Only: host === '::' }, () => {
        srv.off('error', reject);
        srv.on('error', (e) => this.server.logger.warning(`Accept error: ${e.message}`));
        resolve(srv);
      });
    });
  }

  private async openUnix(sock: string, perm: number): Promise<net.Server> {
    try {
      fs.unlinkSync(sock);
    } catch {
      // Not there.
    }
    return new Promise<net.Server>((resolve, reject) => {
      const srv = net.createServer((s) => this.accept(s, true));
      srv.once('error', reject);
      srv.listen(sock, () => {
        srv.off('error', reject);
        try {
          if (perm) fs.chmodSync(sock, perm);
        } catch (e) {
          srv.close();
          reject(e as Error);
          return;
        }
        resolve(srv);
      });
    });
  }

  /**
   * CONFIG SET port / bind: close the TCP listeners, open the new ones; if that fails, re-open
   * the previous configuration and refuse (the caller restores the config values).
   */
  private async rebind(refusal: string): Promise<void> {
    if (!this.listening) return;
    const cfg = this.server.config;
    const previous = this.tcp.map((s) => s.address()).filter((a): a is net.AddressInfo => !!a && typeof a === 'object');
    for (const s of this.tcp) s.close();
    this.tcp = [];
    try {
      this.tcp = await this.openTcp(cfg.int('port'), cfg.get<string[]>('bind'));
    } catch (e) {
      this.server.logger.warning((e as Error).message);
      // Best effort: listen where we listened before.
      for (const a of previous) {
        try {
          this.tcp.push(await this.listenTcp(a.address, a.port));
        } catch {
          // Lost; the failure is logged above.
        }
      }
      throw new ConfigError(refusal);
    }
  }

  private accept(socket: net.Socket, unix: boolean): void {
    const server = this.server;
    const cfg = server.config;
    if (server.clients.size >= cfg.int('maxclients')) {
      server.stats.rejectedConnections++;
      socket.on('error', () => {});
      socket.end(MAX_CLIENTS_MSG);
      return;
    }
    if (protectedModeRefuses({ protectedMode: cfg.bool('protected-mode'), requirepass: cfg.str('requirepass'), remoteAddress: socket.remoteAddress, unix })) {
      socket.on('error', () => {});
      socket.end(PROTECTED_MODE_MSG);
      return;
    }
    if (!unix) {
      socket.setNoDelay(true);
      const ka = cfg.int('tcp-keepalive');
      if (ka > 0) socket.setKeepAlive(true, ka * 1000);
    }
    server.createClient(socket);
  }

  close(): void {
    for (const s of this.tcp) s.close();
    this.tcp = [];
    this.unix?.close();
    this.unix = null;
    this.listening = false;
  }
}

export class ListenError extends Error {}

function describeBindError(e: NodeJS.ErrnoException): string {
  return `bind: ${osErrorText(e)}`;
}
