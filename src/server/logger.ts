/**
 * Redis's log format: `<pid>:<role> <dd Mon yyyy hh:mm:ss.mmm> <level> <message>`, where role is
 * M (master), S (replica) or C (child), and level is . (debug) - (verbose) * (notice) # (warning).
 * Each line is written whole with one synchronous write, so tools that tail the file never see
 * a partial line and nothing is lost if the process dies right after.
 */
import fs from 'node:fs';

export type LogLevel = 'debug' | 'verbose' | 'notice' | 'warning' | 'nothing';
const RANK: Record<LogLevel, number> = { debug: 0, verbose: 1, notice: 2, warning: 3, nothing: 4 };
const CHAR: Record<LogLevel, string> = { debug: '.', verbose: '-', notice: '*', warning: '#', nothing: ' ' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class Logger {
  level: LogLevel = 'notice';
  /** 'M' master, 'S' replica. */
  role: 'M' | 'S' | 'C' = 'M';
  private fd = 1;
  private file = '';

  /** Logs to a file (appending), or to stdout when path is empty. */
  open(path: string): void {
    if (path === this.file && this.fd !== 1) return;
    if (this.fd > 2) fs.closeSync(this.fd);
    this.file = path;
    this.fd = path === '' ? 1 : fs.openSync(path, 'a');
  }

  get target(): string {
    return this.file;
  }

  /** Re-points stdout logging at a file descriptor (daemon mode logs to /dev/null). */
  useFd(fd: number): void {
    this.fd = fd;
  }

  log(level: LogLevel, msg: string): void {
    if (RANK[level] < RANK[this.level] || level === 'nothing') return;
    this.raw(`${process.pid}:${this.role} ${timestamp()} ${CHAR[level]} ${msg}\n`);
  }

  raw(text: string): void {
    try {
      fs.writeSync(this.fd, text);
    } catch {
      // A log destination that fails must never take the server down.
    }
  }

  debug(msg: string): void {
    this.log('debug', msg);
  }
  verbose(msg: string): void {
    this.log('verbose', msg);
  }
  notice(msg: string): void {
    this.log('notice', msg);
  }
  warning(msg: string): void {
    this.log('warning', msg);
  }
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function timestamp(): string {
  const d = new Date();
  return `${pad(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
