/**
 * TCP and unix-socket listeners with Redis's admission rules: `bind` addresses (7.0 default
 * `* -::*`, where a leading '-' means "skip if unavailable"), `maxclients`, and
 * `protected-mode` (no password and default bind: refuse non-loopback peers with Redis's text).
 */
import net from 'node:net';
import fs from 'node:fs';
import type { Server } from '../server/server.js';

const PROTECTED_MODE_MSG =
  '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command \'CONFIG SET protected-mode no\' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to \'no\', and then restarting the server. 3) If you started the server manually just for testing, restart it with the \'--protected-mode no\' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n';

export class Listeners {
  private servers: net.Server[] = [];
  listening = false;
  /** Addresses actually bound (for logs and INFO). */
  bound: string[] = [];

  constructor(private readonly server: Server) {}

  async listen(): Promise<void> {
    const cfg = this.server.config;
    const port = cfg.int('port');
    if (port !== 0) {
      const binds = cfg.get<string[]>('bind');
      for (const raw of binds) {
        const optional = raw.startsWith('-');
        let addr = optional ? raw.slice(1) : raw;
        if (addr === '*') addr = '0.0.0.0';
        if (addr === '::*') addr = '::';
        try {
          await this.listenTcp(addr, port);
          this.bound.push(addr);
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          if (optional && (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT')) continue;
          // Binding :: after 0.0.0.0 on a dual-stack host conflicts; Redis tolerates that case.
          if (addr === '::' && err.code === 'EADDRINUSE' && this.bound.includes('0.0.0.0')) continue;
          this.server.logger.warning(`Warning: Could not create server TCP listening socket ${raw}:${port}: ${describeError(err)}`);
          this.server.logger.warning(`Failed listening on port ${port} (tcp), aborting.`);
          this.close();
          throw new ListenError(`Failed listening on port ${port} (tcp), aborting.`);
        }
      }
    }
    const sock = cfg.str('unixsocket');
    if (sock) {
      try {
        fs.unlinkSync(sock);
      } catch {
        // Not there.
      }
      await new Promise<void>((resolve, reject) => {
        const srv = net.createServer((s) => this.accept(s, true));
        srv.once('error', reject);
        srv.listen(sock, () => {
          srv.off('error', reject);
          const perm = cfg.int('unixsocketperm');
          if (perm) fs.chmodSync(sock, perm);
          this.servers.push(srv);
          resolve();
        });
      }).catch((e: NodeJS.ErrnoException) => {
        this.server.logger.warning(`Failed opening Unix socket: ${describeError(e)}`);
        this.close();
        throw new ListenError(`Failed opening Unix socket: ${describeError(e)}`);
      });
      this.server.logger.notice(`The server is now ready to accept connections at ${sock}`);
    }
    this.listening = true;
  }

  /** The TCP port actually bound (useful with `port 0`... which Redis treats as "no TCP"). */
  get address(): net.AddressInfo | null {
    for (const s of this.servers) {
      const a = s.address();
      if (a && typeof a === 'object') return a;
    }
    return null;
  }

  private listenTcp(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const srv = net.createServer({ noDelay: true }, (s) => this.accept(s, false));
      srv.once('error', reject);
      srv.listen({ host, port, backlog: this.server.config.int('tcp-backlog'), ipv6Only: host === '::' }, () => {
        srv.off('error', reject);
        srv.on('error', (e) => this.server.logger.warning(`Accept error: ${e.message}`));
        this.servers.push(srv);
        resolve();
      });
    });
  }

  private accept(socket: net.Socket, unix: boolean): void {
    const server = this.server;
    const cfg = server.config;
    if (server.clients.size >= cfg.int('maxclients')) {
      server.stats.rejectedConnections++;
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    if (!unix && cfg.bool('protected-mode') && cfg.str('requirepass') === '' && !isLoopback(socket.remoteAddress)) {
      const binds = cfg.get<string[]>('bind');
      const defaultBind = binds.length === 2 && binds[0] === '*' && binds[1] === '-::*';
      if (defaultBind) {
        server.stats.rejectedConnections++;
        socket.end(PROTECTED_MODE_MSG);
        return;
      }
    }
    if (!unix) {
      socket.setNoDelay(true);
      const ka = cfg.int('tcp-keepalive');
      if (ka > 0) socket.setKeepAlive(true, ka * 1000);
    }
    server.createClient(socket);
  }

  close(): void {
    for (const s of this.servers) s.close();
    this.servers = [];
    this.listening = false;
  }
}

export class ListenError extends Error {}

function isLoopback(addr: string | undefined): boolean {
  if (!addr) return true;
  return addr.startsWith('127.') || addr === '::1' || addr.startsWith('::ffff:127.');
}

function describeError(e: NodeJS.ErrnoException): string {
  if (e.code === 'EADDRINUSE') return 'bind: Address already in use';
  if (e.code === 'EADDRNOTAVAIL') return 'bind: Cannot assign requested address';
  if (e.code === 'EACCES') return 'bind: Permission denied';
  return e.message;
}
