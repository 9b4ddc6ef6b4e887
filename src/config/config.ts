/**
 * Runtime configuration: the registry of directives (directives.ts) plus Redis 7.0's other
 * directive names (accepted with a warning), parsing of values with Redis's rules and texts
 * (values.ts), CONFIG GET / CONFIG SET semantics and change subscriptions.
 *
 * Two kinds of subscribers exist. `watch` callbacks follow a value and cannot refuse it (the
 * slowlog length, the log level...). `onApply` callbacks act on the outside world when CONFIG
 * SET changes a value (re-binding the listening sockets, chdir) and may refuse; CONFIG SET then
 * restores every value it changed, as Redis's restoreBackupConfig does.
 */
import { directives, type Directive } from './directives.js';
import { redisOnlyDirectives } from './redis-only.js';
import { ConfigValueError, memtoull, rangeError, string2ll } from './values.js';
import { redisMeta } from '../commands/meta.js';
import { globMatch } from '../util/glob.js';
import { splitArgs } from '../protocol/resp-parser.js';
import { osErrorText } from '../server/logger.js';

export class ConfigError extends Error {}

/**
 * Directives Redis 7.0 accepts in a config file that CONFIG GET * does not list. The
 * deprecated ones are ignored by Redis itself; the others are real features Mirra lacks.
 */
const REDIS_FILE_ONLY = ['include', 'rename-command', 'user', 'loadmodule', 'sentinel'];
const REDIS_DEPRECATED = ['list-max-ziplist-entries', 'list-max-ziplist-value', 'lua-replicate-commands'];

/** Acts on a changed value; throws (or rejects with) ConfigError to refuse it. */
export type Applier = (value: unknown, old: unknown) => void | Promise<void>;

export class Config {
  private readonly byName = new Map<string, Directive>();
  private readonly values = new Map<string, unknown>();
  /** Exact decimal text of numbers beyond 2^53 (maxmemory 18446744073709551615). */
  private readonly exact = new Map<string, string>();
  /** Directives Redis knows that Mirra does not implement: stored verbatim, reported by CONFIG GET. */
  private readonly redisOnly = new Map<string, string>();
  /** `rename-command old new` pairs from the config (new '' disables the command). */
  readonly renamedCommands: [string, string][] = [];
  private readonly listeners = new Map<string, ((v: unknown) => void)[]>();
  private readonly appliers = new Map<string, Applier[]>();
  /** Directives set by the config being loaded: repeated `save` lines add up as in Redis. */
  private readonly loaded = new Set<string>();
  /** Warnings produced while loading (logged once the logger exists). */
  readonly warnings: string[] = [];
  /** Path of the config file, for CONFIG REWRITE and INFO. */
  configFile = '';

  constructor() {
    for (const d of directives) {
      this.byName.set(d.name, d);
      for (const a of d.aliases ?? []) this.byName.set(a, d);
      this.values.set(d.name, d.default);
    }
    // CONFIG SET dir changes the working directory (where dumps and AOFs go), as in Redis.
    this.onApply('dir', (v) => {
      try {
        process.chdir(fsPath(v as string));
      } catch (e) {
        throw new ConfigError(osErrorText(e as NodeJS.ErrnoException));
      }
      this.values.set('dir', Buffer.from(process.cwd(), 'utf8').toString('latin1'));
    });
  }

  /** The canonical directive for a name or alias (any case), if Mirra implements it. */
  directive(name: string): Directive | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** Is this a directive Redis 7.0 knows (implemented by Mirra or not)? */
  isRedisDirective(name: string): boolean {
    const n = name.toLowerCase();
    return this.byName.has(n) || n in redisMeta().configDefaults || REDIS_FILE_ONLY.includes(n) || REDIS_DEPRECATED.includes(n);
  }

  get<T = unknown>(name: string): T {
    return this.values.get(name) as T;
  }
  int(name: string): number {
    return this.values.get(name) as number;
  }
  bool(name: string): boolean {
    return this.values.get(name) as boolean;
  }
  str(name: string): string {
    return this.values.get(name) as string;
  }

  /** Calls fn now and whenever the directive changes. */
  watch(name: string, fn: (v: unknown) => void): void {
    const list = this.listeners.get(name) ?? [];
    list.push(fn);
    this.listeners.set(name, list);
    fn(this.values.get(name));
  }

  /** Registers an action run when CONFIG SET changes the directive (see the file comment). */
  onApply(name: string, fn: Applier): void {
    const list = this.appliers.get(name) ?? [];
    list.push(fn);
    this.appliers.set(name, list);
  }

  /**
   * Applies one directive line from a config file or the command line. Throws ConfigError with
   * Redis's wording when the value is invalid. Returns a warning when the directive is accepted
   * but not implemented.
   */
  apply(name: string, args: string[]): string | undefined {
    const lname = name.toLowerCase();
    const d = this.byName.get(lname);
    if (!d) {
      if (REDIS_DEPRECATED.includes(lname)) {
        if (args.length !== 1) throw new ConfigError('Bad directive or wrong number of arguments');
        return `Directive '${lname}' is deprecated and was ignored`;
      }
      if (this.isRedisDirective(lname)) {
        if (REDIS_FILE_ONLY.includes(lname)) return `Directive '${lname}' is not supported by Mirra and was ignored`;
        // Checked as Redis checks it, so a value Redis refuses is refused here too.
        const spec = redisOnlyDirectives.get(lname);
        if (spec) {
          const v = this.parseValue(spec, this.fileArgs(spec, args));
          this.redisOnly.set(lname, this.pendingExact ?? formatTyped(spec, v));
          this.pendingExact = null;
        } else {
          this.redisOnly.set(lname, args.join(' '));
        }
        return `Directive '${lname}' is accepted but not implemented by Mirra`;
      }
      throw new ConfigError('Bad directive or wrong number of arguments');
    }
    const value = this.parseValue(d, this.fileArgs(d, args), this.loaded.has(d.name));
    this.loaded.add(d.name);
    this.store(d.name, value);
    return undefined;
  }

  /** A multi-argument directive given one non-empty argument splits it like a config line. */
  private fileArgs(d: Directive, args: string[]): string[] {
    if (d.args === 'any') {
      if (args.length === 1 && args[0] !== '') return splitArgs(args[0]!) ?? [];
      return args;
    }
    if (args.length !== 1) throw new ConfigError('wrong number of arguments');
    return args;
  }

  /** Sets an already-parsed value and notifies watchers. */
  set(name: string, value: unknown): void {
    this.exact.delete(name);
    this.values.set(name, value);
    for (const fn of this.listeners.get(name) ?? []) fn(value);
  }

  /**
   * Parses the arguments of one directive (already split for multi-argument ones).
   * `repeated` tells a special parser that the directive appeared before in the same config.
   */
  parseValue(d: Directive, args: string[], repeated = false): unknown {
    this.pendingExact = null;
    try {
      return this.parseTyped(d, args, repeated);
    } catch (e) {
      this.pendingExact = null;
      if (e instanceof ConfigError) throw e;
      throw new ConfigError((e as Error).message);
    }
  }

  private parseTyped(d: Directive, args: string[], repeated: boolean): unknown {
    const t = d.type;
    if (t.kind === 'special') return t.parse(args, { current: this.values.get(d.name), repeated });
    if (args.length !== 1) throw new ConfigValueError('wrong number of arguments');
    const a = args[0]!;
    switch (t.kind) {
      case 'bool': {
        const l = a.toLowerCase();
        if (l === 'yes') return true;
        if (l === 'no') return false;
        throw new ConfigValueError("argument must be 'yes' or 'no'");
      }
      case 'int':
      case 'memory':
      case 'octal': {
        let n: bigint | null;
        if (t.kind === 'int') {
          n = string2ll(a);
          if (n === null) throw new ConfigValueError("argument couldn't be parsed into an integer");
        } else if (t.kind === 'memory') {
          n = memtoull(a);
          if (n === null) throw new ConfigValueError('argument must be a memory value');
        } else {
          if (!/^[0-7]*$/.test(a)) throw new ConfigValueError("argument couldn't be parsed as an octal number");
          n = a === '' ? 0n : BigInt('0o' + a);
        }
        if (n < t.min || n > t.max) throw rangeError(t.min, t.max);
        let v: unknown = Number(n);
        if (d.normalize) v = d.normalize(v);
        if (n > BigInt(Number.MAX_SAFE_INTEGER)) this.pendingExact = String(n);
        return v;
      }
      case 'enum': {
        const l = a.toLowerCase();
        if (!t.values.includes(l)) throw new ConfigValueError(`argument(s) must be one of the following: ${t.values.join(', ')}`);
        return l;
      }
      case 'string':
        t.validate?.(a);
        return a;
    }
  }

  /** Set by parseTyped for a number beyond 2^53, picked up by the next store. */
  private pendingExact: string | null = null;

  private store(name: string, value: unknown): void {
    const exact = this.pendingExact;
    this.pendingExact = null;
    this.set(name, value);
    if (exact !== null) this.exact.set(name, exact);
  }

  /** Text form of a value, as CONFIG GET shows it (name: canonical, alias or Redis-only). */
  format(name: string): string {
    const lname = name.toLowerCase();
    const d = this.byName.get(lname);
    if (!d) return this.redisOnly.get(lname) ?? redisMeta().configDefaults[lname] ?? '';
    const exact = this.exact.get(d.name);
    if (exact !== undefined) return exact;
    return formatTyped(d, this.values.get(d.name));
  }

  /** Every name CONFIG GET knows: Mirra's directives and aliases, and Redis's other ones. */
  private allNames(): Set<string> {
    return new Set<string>([...this.byName.keys(), ...Object.keys(redisMeta().configDefaults)]);
  }

  /**
   * CONFIG GET: (name, value) for every pattern. An exact name is answered under the spelling
   * given; a glob matches every name and alias (case-insensitively). Names repeat only once.
   */
  getMatching(patterns: string[]): [string, string][] {
    const out = new Map<string, [string, string]>();
    const names = this.allNames();
    for (const p of patterns) {
      const lp = p.toLowerCase();
      if (!/[*?[]/.test(p)) {
        if (!out.has(lp) && names.has(lp)) out.set(lp, [p, this.format(lp)]);
        continue;
      }
      for (const n of names) {
        if (!out.has(n) && globMatch(lp, n, true)) out.set(n, [n, this.format(n)]);
      }
    }
    return [...out.values()];
  }

  /**
   * CONFIG SET name value [name value ...]: all or nothing, with Redis's error texts.
   * Returns null on success or the error (without the leading '-'); a Promise when a change
   * needs asynchronous work (re-binding sockets).
   */
  configSet(pairs: string[], allowProtected: boolean): string | null | Promise<string | null> {
    const chosen: { d: Directive; name: string; raw: string }[] = [];
    let firstError: string | null = null;
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const name = pairs[i]!;
      const d = this.byName.get(name.toLowerCase());
      if (firstError !== null) continue;
      if (!d) {
        firstError = this.isRedisDirective(name)
          ? `ERR CONFIG SET failed (possibly related to argument '${name}') - not supported by Mirra`
          : `ERR Unknown option or number of arguments for CONFIG SET - '${name}'`;
        continue;
      }
      if (!d.mutable || (d.protected && !allowProtected)) {
        firstError = `ERR CONFIG SET failed (possibly related to argument '${name}') - can't set ${d.mutable ? 'protected' : 'immutable'} config`;
        continue;
      }
      // Redis keeps an alias as its own entry: `slave-priority 1 replica-priority 2` is no duplicate.
      if (chosen.some((x) => x.name.toLowerCase() === name.toLowerCase())) {
        firstError = `ERR CONFIG SET failed (possibly related to argument '${name}') - duplicate parameter`;
        continue;
      }
      chosen.push({ d, name, raw: pairs[i + 1]! });
    }
    if (firstError !== null) return firstError;

    const parsed: { d: Directive; value: unknown; exact: string | null }[] = [];
    for (const { d, name, raw } of chosen) {
      // Redis splits a multi-argument value at single spaces here (not like a config line).
      const args = d.args === 'any' ? (raw === '' ? [] : raw.split(' ')) : [raw];
      try {
        const value = this.parseValue(d, args);
        parsed.push({ d, value, exact: this.pendingExact });
        this.pendingExact = null;
      } catch (e) {
        this.pendingExact = null;
        if (!(e instanceof ConfigError)) throw e;
        return `ERR CONFIG SET failed (possibly related to argument '${name}') - ${e.message}`;
      }
    }

    const old = parsed.map(({ d }) => ({ name: d.name, value: this.values.get(d.name), exact: this.exact.get(d.name) ?? null }));
    for (const { d, value, exact } of parsed) {
      this.pendingExact = exact;
      this.store(d.name, value);
    }
    const restore = () => {
      for (const o of old) {
        this.pendingExact = o.exact;
        this.store(o.name, o.value);
      }
    };
    const fail = (d: Directive, e: unknown): string => {
      if (!(e instanceof ConfigError)) throw e;
      return `ERR CONFIG SET failed (possibly related to argument '${d.name}') - ${e.message}`;
    };

    // Run each distinct applier once, in order; the first refusal restores everything.
    const seen = new Set<Applier>();
    const steps: { d: Directive; fn: Applier; old: unknown }[] = [];
    for (const [i, { d }] of parsed.entries()) {
      for (const fn of this.appliers.get(d.name) ?? []) {
        if (seen.has(fn)) continue;
        seen.add(fn);
        steps.push({ d, fn, old: old[i]!.value });
      }
    }
    const undo = async (upTo: number): Promise<void> => {
      restore();
      // Put the outside world back for the appliers that already ran (errors ignored).
      for (let j = 0; j < upTo; j++) {
        try {
          await steps[j]!.fn(this.values.get(steps[j]!.d.name), undefined);
        } catch {
          // Best effort, as Redis's restore path.
        }
      }
    };
    for (let k = 0; k < steps.length; k++) {
      const s = steps[k]!;
      let r: void | Promise<void>;
      try {
        r = s.fn(this.values.get(s.d.name), s.old);
      } catch (e) {
        const msg = fail(s.d, e);
        const u = undo(k);
        return k === 0 ? msg : u.then(() => msg);
      }
      if (r instanceof Promise) return this.finishAsync(steps, k, r, fail, undo);
    }
    return null;
  }

  private async finishAsync(
    steps: { d: Directive; fn: Applier; old: unknown }[],
    from: number,
    pending: Promise<void>,
    fail: (d: Directive, e: unknown) => string,
    undo: (upTo: number) => Promise<void>,
  ): Promise<string | null> {
    for (let k = from; k < steps.length; k++) {
      const s = steps[k]!;
      try {
        await (k === from ? pending : s.fn(this.values.get(s.d.name), s.old));
      } catch (e) {
        const msg = fail(s.d, e);
        await undo(k);
        return msg;
      }
    }
    return null;
  }

  /** Names of the Redis-only directives given in the config, with their text (CONFIG REWRITE). */
  redisOnlyEntries(): [string, string][] {
    return [...this.redisOnly.entries()];
  }

  /** True when the value differs from the default (CONFIG REWRITE appends those). */
  isDefault(name: string): boolean {
    const d = this.byName.get(name)!;
    const cur = this.values.get(d.name);
    return JSON.stringify(cur) === JSON.stringify(d.default) && !this.exact.has(d.name);
  }
}

/** A parsed value as CONFIG GET shows it. */
function formatTyped(d: Directive, v: unknown): string {
  switch (d.type.kind) {
    case 'bool':
      return v ? 'yes' : 'no';
    case 'int':
    case 'memory':
      return String(v);
    case 'octal':
      return (v as number).toString(8);
    case 'enum':
    case 'string':
      return v as string;
    case 'special':
      return d.type.format(v);
  }
}

/**
 * Config values are byte strings (latin1), like every argument a client sends, so that
 * `requirepass` from a UTF-8 file equals the bytes AUTH receives. File system paths are
 * turned back into text (UTF-8) before use.
 */
export function fsPath(v: string): string {
  return Buffer.from(v, 'latin1').toString('utf8');
}
