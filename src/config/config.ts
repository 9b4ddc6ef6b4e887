/**
 * Runtime configuration: the registry of directives (directives.ts) plus Redis 7.0's other
 * directive names (accepted with a warning), parsing of values, CONFIG GET/SET semantics and
 * change subscriptions.
 */
import { directives, parseMemory, type Directive } from './directives.js';
import { redisMeta } from '../commands/meta.js';
import { globMatch } from '../util/glob.js';

export class ConfigError extends Error {}

/** Aliases Redis 7.0 accepts that are not listed by CONFIG GET *. */
const REDIS_EXTRA_NAMES = ['include', 'rename-command', 'user', 'loadmodule', 'sentinel', 'slaveof', 'list-max-ziplist-entries', 'list-max-ziplist-value', 'hash-max-zipmap-entries', 'hash-max-zipmap-value'];

export class Config {
  private readonly byName = new Map<string, Directive>();
  private readonly values = new Map<string, unknown>();
  /** Directives Redis knows that Mirra does not implement: stored verbatim, reported by CONFIG GET. */
  private readonly redisOnly = new Map<string, string>();
  private readonly listeners = new Map<string, ((v: unknown) => void)[]>();
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
  }

  /** The canonical directive for a name or alias (any case), if Mirra implements it. */
  directive(name: string): Directive | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** Is this a directive Redis 7.0 knows (implemented by Mirra or not)? */
  isRedisDirective(name: string): boolean {
    const n = name.toLowerCase();
    return this.byName.has(n) || n in redisMeta().configDefaults || REDIS_EXTRA_NAMES.includes(n);
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

  /**
   * Applies one directive with its arguments (from a file, the command line or CONFIG SET).
   * Throws ConfigError with Redis's wording when the value is invalid.
   * Returns a warning string when the directive is accepted but not implemented.
   */
  apply(name: string, args: string[], fromConfigSet = false): string | undefined {
    const lname = name.toLowerCase();
    const d = this.byName.get(lname);
    if (!d) {
      if (this.isRedisDirective(lname)) {
        if (lname === 'include' || lname === 'rename-command' || lname === 'loadmodule' || lname === 'user') {
          return `Directive '${lname}' is not supported by Mirra yet and was ignored`;
        }
        this.redisOnly.set(lname, args.join(' '));
        return `Directive '${lname}' is accepted but not implemented by Mirra yet`;
      }
      throw new ConfigError('Bad directive or wrong number of arguments');
    }
    if (fromConfigSet && !d.mutable) throw new ConfigError("can't set immutable config");
    const value = this.parseValue(d, args);
    this.set(d.name, value);
    return undefined;
  }

  /** Sets an already-parsed value and notifies listeners. */
  set(name: string, value: unknown): void {
    this.values.set(name, value);
    for (const fn of this.listeners.get(name) ?? []) fn(value);
  }

  parseValue(d: Directive, args: string[]): unknown {
    const t = d.type;
    if (t.kind === 'special') {
      try {
        return t.parse(args);
      } catch (e) {
        throw new ConfigError((e as Error).message);
      }
    }
    if (args.length !== 1) throw new ConfigError('wrong number of arguments');
    const a = args[0]!;
    switch (t.kind) {
      case 'bool': {
        const l = a.toLowerCase();
        if (l === 'yes') return true;
        if (l === 'no') return false;
        throw new ConfigError('argument must be \'yes\' or \'no\'');
      }
      case 'int': {
        if (!/^-?\d+$/.test(a)) throw new ConfigError('argument couldn\'t be parsed into an integer');
        const n = Number(a);
        if ((t.min !== undefined && n < t.min) || (t.max !== undefined && n > t.max)) {
          throw new ConfigError(`argument must be between ${t.min} and ${t.max} inclusive`);
        }
        return n;
      }
      case 'memory': {
        const n = parseMemory(a);
        if (n === null) throw new ConfigError('argument must be a memory value');
        if ((t.min !== undefined && n < t.min) || (t.max !== undefined && n > t.max)) {
          throw new ConfigError(`argument must be between ${t.min} and ${t.max} inclusive`);
        }
        return n;
      }
      case 'enum': {
        const l = a.toLowerCase();
        if (!t.values.includes(l)) throw new ConfigError(`argument(s) must be one of the following: ${t.values.join(', ')}`);
        return l;
      }
      case 'string':
        return a;
    }
  }

  /** Text form of a value, as CONFIG GET shows it. */
  format(name: string): string {
    const d = this.byName.get(name);
    if (!d) return this.redisOnly.get(name) ?? redisMeta().configDefaults[name] ?? '';
    const v = this.values.get(d.name);
    switch (d.type.kind) {
      case 'bool':
        return v ? 'yes' : 'no';
      case 'int':
      case 'memory':
        return String(v);
      case 'enum':
      case 'string':
        return v as string;
      case 'special':
        return d.type.format(v);
    }
  }

  /** CONFIG GET: every (name, value) whose name or alias matches one of the patterns. */
  getMatching(patterns: string[]): [string, string][] {
    const out = new Map<string, string>();
    const names = new Set<string>([...this.byName.keys(), ...Object.keys(redisMeta().configDefaults)]);
    for (const p of patterns) {
      const lp = p.toLowerCase();
      const isGlob = /[*?[]/.test(lp);
      if (!isGlob) {
        if (names.has(lp) && !out.has(lp)) out.set(lp, this.format(this.canonical(lp)));
        continue;
      }
      for (const n of names) {
        if (out.has(n)) continue;
        const d = this.byName.get(n);
        // Globs list canonical names only, as Redis does (aliases only when asked exactly).
        if (d && d.name !== n) continue;
        if (globMatch(lp, n, true)) out.set(n, this.format(this.canonical(n)));
      }
    }
    return [...out.entries()];
  }

  private canonical(name: string): string {
    const d = this.byName.get(name);
    return d ? d.name : name;
  }
}
