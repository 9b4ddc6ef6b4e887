/**
 * An in-process server for tests that check what commands propagate (replication.md §5.4):
 * a Server that never listens, a client without a socket, and a sink on the propagator that
 * records every fed command. Blocking needs a socket (socket-less internal clients never
 * block), so `socketClient()` gives a client with a stub socket that records what it is sent.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Config } from '../../src/config/config.js';
import { Server } from '../../src/server/server.js';
import type { Client } from '../../src/net/client.js';

export class InProcess {
  readonly server: Server;
  readonly client: Client;
  /** Every command fed to the propagator since the last take. */
  fed: string[][] = [];

  constructor() {
    this.server = new Server(new Config());
    this.server.logger.level = 'nothing';
    this.client = this.server.createClient(null);
    this.server.propagator.localSinks.push({ feed: (_db, argv) => this.fed.push([...argv]) });
  }

  /** Runs a command for `c`; returns its raw reply. */
  exec(c: Client, argv: string[]): string {
    this.server.dispatch(c, argv);
    const out = c.w.take();
    return out === null ? '' : Buffer.concat(out).toString('latin1');
  }

  /** Runs a command on the plain client and returns what it propagated (clearing the record). */
  propagated(...argv: string[]): string[][] {
    this.fed = [];
    this.exec(this.client, argv);
    return this.takeFed();
  }

  takeFed(): string[][] {
    const r = this.fed;
    this.fed = [];
    return r;
  }

  /** A client with a stub socket, so that it may block; `output()` returns what it was sent. */
  socketClient(): { c: Client; output: () => string } {
    const written: Buffer[] = [];
    const sock = new EventEmitter() as unknown as Socket & Record<string, unknown>;
    Object.assign(sock, {
      remoteAddress: '127.0.0.1',
      remotePort: 1,
      localAddress: '127.0.0.1',
      localPort: 2,
      writableLength: 0,
      write: (b: Buffer) => {
        written.push(Buffer.from(b));
        return true;
      },
      cork: () => {},
      uncork: () => {},
      destroy: () => {},
      end: () => {},
      pause: () => {},
      resume: () => {},
    });
    const c = this.server.createClient(sock);
    return {
      c,
      output: () => {
        const s = Buffer.concat(written).toString('latin1');
        written.length = 0;
        return s;
      },
    };
  }
}
