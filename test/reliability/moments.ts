/**
 * "Do X at moment Y" for the reliability tests: detect a moment in a live process (an INFO
 * field, a log line, a ROLE state) by polling on a persistent connection, then act at once
 * (kill -9, SIGSTOP, cut a link). Polling goes through one open RESP connection rather than a
 * redis-cli process per poll, so the act follows the detection within a few milliseconds.
 *
 * Also: RSS of a process (ps), restart of a killed server on the same port and directory, and
 * the temp files a crash may leave in a server's directory.
 */
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { startMirra, type ServerHandle, type StartOptions } from '../helpers/servers.js';
import { sleep } from '../helpers/wait.js';
import { Resp } from '../replication/resilience-helpers.js';

/** A polling connection to one server: INFO fields and ROLE without spawning processes. */
export class Probe {
  private constructor(
    readonly port: number,
    private conn: Resp,
  ) {}

  static async open(port: number): Promise<Probe> {
    return new Probe(port, await Resp.open(port));
  }

  /** One command; reconnects once if the connection was lost (the server restarted). */
  async call(...argv: string[]): Promise<unknown> {
    if (this.conn.closed) this.conn = await Resp.open(this.port);
    return this.conn.call(...argv);
  }

  /** INFO <section> as a field map (empty when the server answered an error). */
  async info(section = 'replication'): Promise<Record<string, string>> {
    const text = await this.call('INFO', section);
    const out: Record<string, string> = {};
    if (typeof text !== 'string') return out;
    for (const line of text.split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
    }
    return out;
  }

  async field(section: string, name: string): Promise<string | undefined> {
    return (await this.info(section))[name];
  }

  /** DEBUG DIGEST, or the error text (e.g. -LOADING) as a string starting with '-'. */
  async digest(): Promise<string> {
    const r = await this.call('DEBUG', 'DIGEST');
    return r instanceof Error ? `-${r.message}` : String(r);
  }

  close(): void {
    this.conn.close();
  }
}

export interface MomentResult {
  /** Time from the start of the watch to the act (ms). */
  waitedMs: number;
}

/**
 * Polls `detect` every `stepMs` until it returns true, then runs `act` immediately.
 * Throws with `what` when the moment did not come within `timeoutMs`.
 */
export async function atMoment(
  what: string,
  detect: () => boolean | Promise<boolean>,
  act: () => void | Promise<void>,
  opts: { timeoutMs?: number; stepMs?: number } = {},
): Promise<MomentResult> {
  const t0 = Date.now();
  const deadline = t0 + (opts.timeoutMs ?? 20000);
  while (Date.now() < deadline) {
    if (await detect()) {
      await act();
      return { waitedMs: Date.now() - t0 };
    }
    await sleep(opts.stepMs ?? 5);
  }
  throw new Error(`the moment "${what}" did not come within ${opts.timeoutMs ?? 20000} ms`);
}

/** Detector: an INFO field of `probe` satisfies `pred`. */
export function infoSays(probe: Probe, section: string, field: string, pred: (v: string | undefined) => boolean): () => Promise<boolean> {
  return async () => pred(await probe.field(section, field));
}

/** Detector: the server's log, from `from` characters on, matches `re`. */
export function logSays(srv: ServerHandle, re: RegExp, from = 0): () => boolean {
  return () => re.test(srv.log().slice(from));
}

/** Resident set size of a process in KB (0 when it is gone). */
export function rssKb(pid: number): number {
  const r = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return Number.isFinite(n) ? n : 0;
}

/** True while the process exists (signal 0). */
export function alive(srv: ServerHandle): boolean {
  return srv.proc.exitCode === null && srv.proc.signalCode === null;
}

/** kill -9 (or another signal that ends it) and wait for the exit. */
export async function killHard(srv: ServerHandle): Promise<void> {
  srv.kill('SIGKILL');
  await srv.exited;
}

/** A new process of the same server: same port, same directory, the given arguments. */
export async function restartMirra(srv: ServerHandle, opts: Omit<StartOptions, 'port' | 'dir'> = {}): Promise<ServerHandle> {
  return startMirra({ ...opts, port: srv.port, dir: srv.dir });
}

/** Names of the replication/snapshot temp files in a directory (temp-*.rdb, temp-*.aof). */
export function tempFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => /^temp-.*\.(rdb|aof)$/.test(f));
}
