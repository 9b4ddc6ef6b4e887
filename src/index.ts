/**
 * Embedding API: run Mirra servers inside a Node process (for application tests, tools).
 *
 * @example
 * ```ts
 * import { startServer } from 'mirra';
 * const master = await startServer({ port: 0 });          // a free port
 * const replica = await startServer({ port: 0, config: { replicaof: `127.0.0.1 ${master.port}` } });
 * // ... use any Redis client on master.port / replica.port ...
 * await replica.close();
 * await master.close();
 * ```
 */
import net from 'node:net';
import { Config } from './config/config.js';
import { applyLines, argvToLines } from './config/parse.js';
import { Server } from './server/server.js';

export interface StartOptions {
  /** TCP port; 0 picks a free one (default 0). */
  port?: number;
  /** Bind address (default 127.0.0.1). */
  host?: string;
  /** Any redis.conf directive, e.g. `{ 'repl-diskless-sync': 'no', save: '' }`. */
  config?: Record<string, string>;
}

export interface EmbeddedServer {
  readonly port: number;
  readonly server: Server;
  /** Stops listening and closes every connection (no save). */
  close(): Promise<void>;
}

export async function startServer(opts: StartOptions = {}): Promise<EmbeddedServer> {
  const port = opts.port === undefined || opts.port === 0 ? await freePort(opts.host ?? '127.0.0.1') : opts.port;
  const config = new Config();
  const args: string[] = ['--port', String(port), '--bind', opts.host ?? '127.0.0.1', '--save', ''];
  for (const [k, v] of Object.entries(opts.config ?? {})) args.push(`--${k}`, ...(v === '' ? [''] : v.split(' ')));
  applyLines(config, argvToLines(args));
  config.set('dir', process.cwd());
  const server = new Server(config);
  server.logger.level = 'nothing';
  server.onExit = () => {};
  await server.start();
  await server.persistence.loadAtStartup();
  server.repl.startFromConfig();
  return {
    port,
    server,
    close: async () => {
      server.stop();
    },
  };
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, host, () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export { Server } from './server/server.js';
export { Config } from './config/config.js';
