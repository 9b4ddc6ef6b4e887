/**
 * Starts real server processes for tests: Mirra (the built dist/src/cli/mirra-server.js) or the
 * real redis-server, each on a free port with its own temp directory, and stops them by pid.
 * Every started process is also killed when the test process exits, so nothing is left behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';
import { SERVER_NODE_FLAGS } from '../../src/cli/node-flags.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/src/cli/mirra-server.js, found from dist/test/helpers. */
export const MIRRA_BIN = path.resolve(here, '../../src/cli/mirra-server.js');
export { SERVER_NODE_FLAGS };

export interface ServerHandle {
  kind: 'mirra' | 'redis';
  port: number;
  pid: number;
  dir: string;
  logfile: string;
  proc: ChildProcess;
  /** Resolves when the process exited. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  log(): string;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) {
    try {
      if (p.pid) process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export function hasRedis(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

export function tempDir(prefix = 'mirra-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface StartOptions {
  /** Extra `--name value` arguments. */
  args?: string[];
  /** Config file text written to <dir>/server.conf and passed first. */
  configText?: string;
  port?: number;
  dir?: string;
  /** Wait for "Ready to accept connections" (default true). */
  waitReady?: boolean;
  /** Enable DEBUG (default true). */
  debug?: boolean;
}

export async function startMirra(opts: StartOptions = {}): Promise<ServerHandle> {
  return start('mirra', opts);
}

export async function startRedis(opts: StartOptions = {}): Promise<ServerHandle> {
  return start('redis', opts);
}

async function start(kind: 'mirra' | 'redis', opts: StartOptions): Promise<ServerHandle> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? tempDir();
  const logfile = path.join(dir, `${kind}-${port}.log`);
  const args: string[] = [];
  if (opts.configText !== undefined) {
    const conf = path.join(dir, `${kind}-${port}.conf`);
    fs.writeFileSync(conf, opts.configText);
    args.push(conf);
  }
  args.push('--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--logfile', logfile, '--save', '');
  if (opts.debug !== false) args.push('--enable-debug-command', 'yes');
  args.push(...(opts.args ?? []));
  // A restart may reuse the log file: readiness is judged on what this process writes.
  const logStart = fs.existsSync(logfile) ? fs.statSync(logfile).size : 0;
  const proc =
    kind === 'mirra'
      ? spawn(process.execPath, [...SERVER_NODE_FLAGS, MIRRA_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(proc);
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      live.delete(proc);
      resolve(code);
    }),
  );
  const handle: ServerHandle = {
    kind,
    port,
    pid: proc.pid!,
    dir,
    logfile,
    proc,
    exited,
    log: () => (fs.existsSync(logfile) ? fs.readFileSync(logfile, 'utf8') : '') + stderr,
    kill: (signal = 'SIGKILL') => {
      try {
        process.kill(proc.pid!, signal);
      } catch {
        // gone
      }
    },
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      handle.kill('SIGKILL');
      await exited;
    },
  };
  if (opts.waitReady !== false) {
    let exitedEarly = false;
    void exited.then(() => (exitedEarly = true));
    await waitFor(
      async () => {
        if (exitedEarly) throw new Error(`${kind} on port ${port} exited during startup:\n${handle.log()}`);
        const fresh = fs.existsSync(logfile) ? fs.readFileSync(logfile, 'latin1').slice(logStart) : '';
        return (await canConnect(port)) && fresh.includes('Ready to accept connections');
      },
      `${kind} on port ${port} to be ready`,
      15000,
    );
  }
  return handle;
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Runs redis-cli and returns stdout (trimmed of the final newline). */
export function redisCli(port: number, ...args: string[]): string {
  const r = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', timeout: 10000 });
  return r.stdout.replace(/\n$/, '');
}
