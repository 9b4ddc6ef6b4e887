/**
 * Redis's log format: `<pid>:<role> <dd Mon yyyy hh:mm:ss.mmm> <level> <message>`, where role is
 * M (master), S (replica) or C (before the server is initialised), and level is . (debug)
 * - (verbose) * (notice) # (warning).
 *
 * Like Redis, a log file is opened in append mode for every line and closed again, so that
 * logrotate can move the file away and the next line lands in a fresh one. Each line is one
 * synchronous write: tools tailing the file never see half a line, and nothing is lost if the
 * process dies right after.
 */
import fs from 'node:fs';

export type LogLevel = 'debug' | 'verbose' | 'notice' | 'warning' | 'nothing';
const RANK: Record<LogLevel, number> = { debug: 0, verbose: 1, notice: 2, warning: 3, nothing: 4 };
const CHAR: Record<LogLevel, string> = { debug: '.', verbose: '-', notice: '*', warning: '#', nothing: ' ' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class Logger {
  level: LogLevel = 'notice';
  /** 'M' master, 'S' replica, 'C' while starting. */
  role: 'M' | 'S' | 'C' = 'M';
  /** File descriptor used when no log file is set (stdout; /dev/null for a daemon). */
  private fd = 1;
  private file = '';

  /**
   * Logs to a file (appending), or to stdout when path is empty. Throws when the file cannot
   * be opened, so a bad `logfile` stops the start instead of losing every line silently.
   */
  open(path: string): void {
    this.file = path;
    if (path !== '') fs.closeSync(fs.openSync(path, 'a'));
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
      if (this.file === '') fs.writeSync(this.fd, text);
      else fs.appendFileSync(this.file, text);
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

/** One log line in Redis's format, for output written before a Logger exists. */
export function formatLogLine(role: string, level: LogLevel, msg: string): string {
  return `${process.pid}:${role} ${timestamp()} ${CHAR[level]} ${msg}\n`;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function timestamp(): string {
  const d = new Date();
  return `${pad(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

const OS_ERRORS: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EEXIST: 'File exists',
  EROFS: 'Read-only file system',
  ENOSPC: 'No space left on device',
  EMFILE: 'Too many open files',
  ENAMETOOLONG: 'File name too long',
  ELOOP: 'Too many levels of symbolic links',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EAFNOSUPPORT: 'Address family not supported by protocol',
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EPIPE: 'Broken pipe',
  EINVAL: 'Invalid argument',
};

/** The text C's strerror() gives for a Node system error, as Redis prints it. */
export function osErrorText(e: NodeJS.ErrnoException): string {
  if (e.code && OS_ERRORS[e.code]) return OS_ERRORS[e.code]!;
  return e.message;
}
