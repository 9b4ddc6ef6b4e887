/**
 * The command table: Redis 7.0's metadata (meta.ts) joined with the handlers each family file
 * declares. Only commands that have a handler are in the table, so COMMAND, COMMAND COUNT and
 * the "unknown command" error tell the truth about what Mirra implements.
 */
import type { CommandDef, CommandFlag, CommandSpec } from './spec.js';
import { redisMeta, type RespTree } from './meta.js';
import { families } from './families.js';

export class CommandTable {
  readonly byName = new Map<string, CommandSpec>();

  constructor(defs: readonly CommandDef[]) {
    for (const def of defs) {
      const spec = buildSpec(def, undefined);
      this.byName.set(spec.name, spec);
    }
  }

  /**
   * rename-command: the command answers to `to` instead of `from`; an empty `to` disables it.
   * Applied once at startup from the config (the table is per process).
   */
  rename(from: string, to: string): void {
    const spec = this.byName.get(from);
    if (!spec) return;
    this.byName.delete(from);
    if (to !== '') this.byName.set(to, spec);
  }

  /** Looks a command up by the name a client sent (any case). */
  lookup(name: string): CommandSpec | undefined {
    return this.byName.get(name) ?? this.byName.get(name.toLowerCase());
  }

  /** Resolves `argv` to the spec that will run it (a subcommand for containers). */
  resolve(argv: readonly string[]): CommandSpec | undefined {
    const top = this.lookup(argv[0]!);
    if (!top || !top.subcommands || argv.length < 2) return top;
    return top.subcommands.get(argv[1]!.toLowerCase());
  }
}

function infoOf(meta: RespTree & { t: 'array' }): {
  arity: number;
  flags: CommandFlag[];
  keys: [number, number, number];
  acl: string[];
} {
  const v = meta.v;
  const num = (x: RespTree | undefined): number => (x && x.t === 'int' ? x.v : 0);
  const strs = (x: RespTree | undefined): string[] =>
    x && (x.t === 'set' || x.t === 'array') ? x.v.map((e) => (e as { v: string }).v) : [];
  return {
    arity: num(v[1]),
    flags: strs(v[2]) as CommandFlag[],
    keys: [num(v[3]), num(v[4]), num(v[5])],
    acl: strs(v[6]).map((s) => s.replace(/^@/, '')),
  };
}

function findSubMeta(parentFull: string, sub: string): (RespTree & { t: 'array' }) | undefined {
  const parent = redisMeta().commands[parentFull];
  if (!parent) return undefined;
  const subs = parent.info.v[9];
  if (!subs || subs.t !== 'array') return undefined;
  for (const s of subs.v) {
    if (s.t === 'array' && s.v[0] && (s.v[0] as { v: string }).v === `${parentFull}|${sub}`) {
      return s as RespTree & { t: 'array' };
    }
  }
  return undefined;
}

function buildSpec(def: CommandDef, parent: CommandSpec | undefined): CommandSpec {
  const fullName = parent ? `${parent.name}|${def.name}` : def.name;
  const meta = parent ? findSubMeta(parent.name, def.name) : redisMeta().commands[def.name]?.info;
  const base = meta ? infoOf(meta) : undefined;
  const arity = def.arity ?? base?.arity;
  if (arity === undefined) throw new Error(`command '${fullName}' has no Redis metadata and declares no arity`);
  const flags = new Set<CommandFlag>(def.flags ?? base?.flags ?? []);
  const keys = def.keys ?? base?.keys ?? [0, 0, 0];
  const spec: CommandSpec = {
    name: def.name,
    fullName,
    arity,
    flags,
    firstKey: keys[0],
    lastKey: keys[1],
    step: keys[2],
    acl: def.acl ?? base?.acl ?? [],
    handler: def.handler,
    getKeys: def.getKeys,
    subcommands: undefined,
    parent,
    isWrite: flags.has('write'),
    isReadonly: flags.has('readonly'),
    allowLoading: flags.has('loading'),
    allowStale: flags.has('stale'),
    noAuth: flags.has('no_auth'),
    noMulti: flags.has('no_multi'),
    denyOom: flags.has('denyoom'),
    isPubsub: flags.has('pubsub'),
    isBlocking: flags.has('blocking'),
    isAdmin: flags.has('admin'),
    stats: { calls: 0, usec: 0, rejected: 0, failed: 0 },
  };
  if (def.subcommands) {
    spec.subcommands = new Map();
    for (const sub of def.subcommands) spec.subcommands.set(sub.name, buildSpec(sub, spec));
  }
  return spec;
}

/** Key argv indexes of a command, from its first/last/step (or getKeys for movable keys). */
export function commandKeys(spec: CommandSpec, argv: readonly string[]): number[] {
  if (spec.getKeys) return spec.getKeys(argv as string[]);
  if (spec.firstKey === 0) return [];
  const last = spec.lastKey < 0 ? argv.length + spec.lastKey : spec.lastKey;
  const out: number[] = [];
  for (let i = spec.firstKey; i <= last && i < argv.length; i += spec.step || 1) out.push(i);
  return out;
}

let table: CommandTable | undefined;

/** The process-wide table (built lazily: the metadata file is read once). */
export function commandTable(): CommandTable {
  table ??= new CommandTable(families.flat());
  return table;
}
