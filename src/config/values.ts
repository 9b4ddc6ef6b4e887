/**
 * Value parsers with Redis 7.0's exact acceptance rules and error texts (config.c): integers
 * as string2ll reads them, memory sizes as memtoull, octal numbers, and the multi-argument
 * directives (save, client-output-buffer-limit, bind, replicaof, shutdown-on-sig*).
 *
 * Parsers throw ConfigValueError with the text Redis puts after "CONFIG SET failed (possibly
 * related to argument '...') - " or on the last line of a FATAL CONFIG FILE ERROR.
 */

export class ConfigValueError extends Error {}

export const INT_MIN = -2147483648n;
export const INT_MAX = 2147483647n;
export const UINT_MAX = 4294967295n;
export const LLONG_MAX = 9223372036854775807n;
export const ULLONG_MAX = 18446744073709551615n;

/** Redis's string2ll: optional '-', no '+', no leading zeros, no spaces, at most 20 chars. */
export function string2ll(s: string): bigint | null {
  if (s.length === 0 || s.length > 20) return null;
  if (s === '0') return 0n;
  if (!/^-?[1-9][0-9]*$/.test(s)) return null;
  const v = BigInt(s);
  if (v > LLONG_MAX || v < -LLONG_MAX - 1n) return null;
  return v;
}

const UNITS: Record<string, bigint> = {
  '': 1n,
  b: 1n,
  k: 1000n,
  kb: 1024n,
  m: 1000n * 1000n,
  mb: 1024n * 1024n,
  g: 1000n * 1000n * 1000n,
  gb: 1024n * 1024n * 1024n,
};

/**
 * Redis's memtoull: digits then an optional unit (b k kb m mb g gb, any case). As in Redis an
 * empty digit string reads as 0 ("" and "kb" are 0), and a digit string that overflows
 * saturates (so it is then refused by the range check, not as a malformed value).
 */
export function memtoull(s: string): bigint | null {
  const m = /^([0-9]*)(.*)$/s.exec(s)!;
  const mul = UNITS[m[2]!.toLowerCase()];
  if (mul === undefined || m[1]!.length >= 128) return null;
  let v = m[1] === '' ? 0n : BigInt(m[1]!);
  if (v > ULLONG_MAX) v = ULLONG_MAX;
  if (v > ULLONG_MAX / mul) return null;
  return v * mul;
}

/** The parsed form of `strtoll(s, &end, 10)` with `*end == '\0'` required (save, soft seconds). */
export function strtollStrict(s: string): number | null {
  if (s === '') return 0;
  if (!/^[\t\n\v\f\r ]*[+-]?[0-9]+$/.test(s)) return null;
  return Number(s.trim());
}

export function rangeError(min: bigint, max: bigint): ConfigValueError {
  return new ConfigValueError(`argument must be between ${min} and ${max} inclusive`);
}

// ---------------------------------------------------------------------------------------------
// save

export interface SavePoint {
  seconds: number;
  changes: number;
}

/**
 * `save <seconds> <changes> [...]`, or `save ""` for none. While a config file loads, several
 * `save` lines add up (the first one replaces the defaults), as in Redis.
 */
export function parseSave(args: string[], current: SavePoint[], appendToCurrent: boolean): SavePoint[] {
  let a = args;
  if (a.length === 1 && a[0] === '') a = [];
  if (a.length % 2 !== 0) throw new ConfigValueError('Invalid save parameters');
  const points: SavePoint[] = [];
  for (let j = 0; j < a.length; j += 2) {
    const seconds = strtollStrict(a[j]!);
    const changes = strtollStrict(a[j + 1]!);
    if (seconds === null || changes === null || seconds < 1 || changes < 0) throw new ConfigValueError('Invalid save parameters');
    points.push({ seconds, changes });
  }
  // `save ""` inside a config file still clears what earlier lines added.
  if (a.length === 0) return [];
  return appendToCurrent ? [...current, ...points] : points;
}

export function formatSave(v: unknown): string {
  return (v as SavePoint[]).map((p) => `${p.seconds} ${p.changes}`).join(' ');
}

// ---------------------------------------------------------------------------------------------
// client-output-buffer-limit

export interface OutputBufferLimit {
  hard: number;
  soft: number;
  softSeconds: number;
}
export type OutputBufferLimits = Record<'normal' | 'replica' | 'pubsub', OutputBufferLimit>;

/** `<class> <hard> <soft> <soft-seconds>` repeated; classes not named keep their limits. */
export function parseOutputBufferLimits(args: string[], current: OutputBufferLimits): OutputBufferLimits {
  if (args.length % 4 !== 0) throw new ConfigValueError('Wrong number of arguments in buffer limit configuration.');
  const out: OutputBufferLimits = { normal: { ...current.normal }, replica: { ...current.replica }, pubsub: { ...current.pubsub } };
  for (let j = 0; j < args.length; j += 4) {
    const name = args[j]!.toLowerCase();
    const cls = name === 'normal' ? 'normal' : name === 'slave' || name === 'replica' ? 'replica' : name === 'pubsub' ? 'pubsub' : null;
    if (cls === null) throw new ConfigValueError('Invalid client class specified in buffer limit configuration.');
    const hard = memtoull(args[j + 1]!);
    const soft = memtoull(args[j + 2]!);
    const secs = strtollStrict(args[j + 3]!);
    if (hard === null || soft === null || secs === null || secs < 0) {
      throw new ConfigValueError('Error in hard, soft or soft_seconds setting in buffer limit configuration.');
    }
    out[cls] = { hard: Number(hard), soft: Number(soft), softSeconds: secs };
  }
  return out;
}

export function formatOutputBufferLimits(v: unknown): string {
  const o = v as OutputBufferLimits;
  return (['normal', 'replica', 'pubsub'] as const)
    .map((c) => `${c === 'replica' ? 'slave' : c} ${o[c].hard} ${o[c].soft} ${o[c].softSeconds}`)
    .join(' ');
}

// ---------------------------------------------------------------------------------------------
// bind, replicaof, shutdown-on-sig*

/** Redis's CONFIG_BINDADDR_MAX. */
const BIND_MAX = 16;

export function parseBind(args: string[]): string[] {
  if (args.length > BIND_MAX) throw new ConfigValueError('Too many bind addresses specified.');
  if (args.length === 1 && args[0] === '') return [];
  return [...args];
}

export function formatBind(v: unknown): string {
  return (v as string[]).join(' ');
}

export interface MasterAddress {
  host: string;
  port: number;
}

export function parseReplicaof(args: string[]): MasterAddress | null {
  if (args.length !== 2) throw new ConfigValueError('wrong number of arguments');
  if (args[0]!.toLowerCase() === 'no' && args[1]!.toLowerCase() === 'one') return null;
  // strtol(port) with nothing after the digits, 0..65535.
  const port = /^[\t\n\v\f\r ]*[+-]?[0-9]+$/.test(args[1]!) ? Number(args[1]!.trim()) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigValueError('Invalid master port');
  return { host: args[0]!, port };
}

export function formatReplicaof(v: unknown): string {
  const m = v as MasterAddress | null;
  return m ? `${m.host} ${m.port}` : '';
}

const SHUTDOWN_FLAGS = ['default', 'save', 'nosave', 'now', 'force'] as const;

/** `shutdown-on-sigterm default|save|nosave|now|force [...]`, stored as space-separated flags. */
export function parseShutdownFlags(args: string[]): string {
  const set = new Set<string>();
  for (const a of args) {
    const l = a.toLowerCase();
    if (!(SHUTDOWN_FLAGS as readonly string[]).includes(l)) {
      throw new ConfigValueError(`argument(s) must be one of the following: ${SHUTDOWN_FLAGS.join(', ')}`);
    }
    if (l !== 'default') set.add(l);
  }
  if (args.length === 0) throw new ConfigValueError(`argument(s) must be one of the following: ${SHUTDOWN_FLAGS.join(', ')}`);
  if (set.has('save') && set.has('nosave')) throw new ConfigValueError("shutdown can't have both 'save' and 'nosave' flags");
  const flags = SHUTDOWN_FLAGS.filter((f) => set.has(f));
  return flags.length === 0 ? 'default' : flags.join(' ');
}

// ---------------------------------------------------------------------------------------------
// strings with Redis's validators

export function baseName(what: 'dbfilename' | 'appendfilename' | 'appenddirname'): (v: string) => void {
  return (v) => {
    if (v.includes('/')) {
      throw new ConfigValueError(what === 'appenddirname' ? "appenddirname can't be a path, just a dirname" : `${what} can't be a path, just a filename`);
    }
  };
}

const TITLE_PLACEHOLDERS = ['{title}', '{listen-addr}', '{server-mode}', '{port}', '{tls-port}', '{unixsocket}', '{config-file}'];

/** proc-title-template: not empty, every `{...}` a known variable, no unclosed '{'. */
export function validateProcTitle(v: string): void {
  let ok = v !== '';
  for (let i = v.indexOf('{'); ok && i !== -1; i = v.indexOf('{', i + 1)) {
    const end = v.indexOf('}', i);
    ok = end !== -1 && TITLE_PLACEHOLDERS.includes(v.slice(i, end + 1));
  }
  if (!ok) throw new ConfigValueError('template format is invalid or contains unknown variables');
}
