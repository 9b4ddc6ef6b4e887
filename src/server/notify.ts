/**
 * Keyspace notifications (`notify-keyspace-events`), as Redis's notify.c.
 *
 * The directive is a set of class letters kept as a bitmask. Handlers report events through
 * `Keyspace.changed()/notify()` with the class letter Redis uses; `KeyspaceNotifier` is the
 * keyspace listener that turns an enabled event into the two pub/sub messages:
 *
 *   __keyspace@<db>__:<key>    → <event>     (when K is set)
 *   __keyevent@<db>__:<event>  → <key>       (when E is set)
 *
 * This module has no runtime imports so the config registry can use its parser/formatter.
 */
import type { Db } from '../keyspace/db.js';
import type { KeyspaceListener, NotifyClass } from '../keyspace/keyspace.js';

export const NOTIFY_KEYSPACE = 1 << 0; // K
export const NOTIFY_KEYEVENT = 1 << 1; // E
export const NOTIFY_GENERIC = 1 << 2; // g
export const NOTIFY_STRING = 1 << 3; // $
export const NOTIFY_LIST = 1 << 4; // l
export const NOTIFY_SET = 1 << 5; // s
export const NOTIFY_HASH = 1 << 6; // h
export const NOTIFY_ZSET = 1 << 7; // z
export const NOTIFY_EXPIRED = 1 << 8; // x
export const NOTIFY_EVICTED = 1 << 9; // e
export const NOTIFY_STREAM = 1 << 10; // t
export const NOTIFY_KEY_MISS = 1 << 11; // m
export const NOTIFY_MODULE = 1 << 12; // d
export const NOTIFY_NEW = 1 << 13; // n
/** 'A': every class except key-miss and new-key events (Redis's NOTIFY_ALL). */
export const NOTIFY_ALL =
  NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE;

const CLASS_BITS: Record<NotifyClass, number> = {
  g: NOTIFY_GENERIC,
  $: NOTIFY_STRING,
  l: NOTIFY_LIST,
  s: NOTIFY_SET,
  h: NOTIFY_HASH,
  z: NOTIFY_ZSET,
  x: NOTIFY_EXPIRED,
  e: NOTIFY_EVICTED,
  t: NOTIFY_STREAM,
  m: NOTIFY_KEY_MISS,
  d: NOTIFY_MODULE,
  n: NOTIFY_NEW,
};

export const NOTIFY_FLAGS_ERROR = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

/** Parses a flags string (keyspaceEventsStringToFlags); null on an unknown character. */
export function parseNotifyFlags(s: string): number | null {
  let flags = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === 'A') flags |= NOTIFY_ALL;
    else if (ch === 'K') flags |= NOTIFY_KEYSPACE;
    else if (ch === 'E') flags |= NOTIFY_KEYEVENT;
    else {
      const bit = (CLASS_BITS as Record<string, number | undefined>)[ch];
      if (bit === undefined) return null;
      flags |= bit;
    }
  }
  return flags;
}

/**
 * The normalised text CONFIG GET shows (keyspaceEventsFlagsToString). As in Redis, when every
 * class of 'A' is set only "A" is printed, so an 'n' given together with them is not shown.
 */
export function formatNotifyFlags(flags: number): string {
  let s = '';
  if ((flags & NOTIFY_ALL) === NOTIFY_ALL) s = 'A';
  else {
    if (flags & NOTIFY_GENERIC) s += 'g';
    if (flags & NOTIFY_STRING) s += '$';
    if (flags & NOTIFY_LIST) s += 'l';
    if (flags & NOTIFY_SET) s += 's';
    if (flags & NOTIFY_HASH) s += 'h';
    if (flags & NOTIFY_ZSET) s += 'z';
    if (flags & NOTIFY_EXPIRED) s += 'x';
    if (flags & NOTIFY_EVICTED) s += 'e';
    if (flags & NOTIFY_STREAM) s += 't';
    if (flags & NOTIFY_MODULE) s += 'd';
    if (flags & NOTIFY_NEW) s += 'n';
  }
  if (flags & NOTIFY_KEYSPACE) s += 'K';
  if (flags & NOTIFY_KEYEVENT) s += 'E';
  if (flags & NOTIFY_KEY_MISS) s += 'm';
  return s;
}

/** Config registry hooks for the directive (one argument, stored as the bitmask). */
export function parseNotifyDirective(args: string[]): number {
  if (args.length !== 1) throw new Error('wrong number of arguments');
  const flags = parseNotifyFlags(args[0]!);
  if (flags === null) throw new Error(NOTIFY_FLAGS_ERROR);
  return flags;
}

export function formatNotifyDirective(v: unknown): string {
  return formatNotifyFlags(v as number);
}

/** Where notifications are published (the server's PubSub). */
export interface NotifyPublisher {
  publish(channel: string, message: string): number;
}

/**
 * The keyspace listener that publishes notifications. `flags` mirrors the directive (kept in
 * sync by the owner through `setFlags`), so the common case — notifications off — costs one
 * bit test per modification.
 */
export class KeyspaceNotifier implements KeyspaceListener {
  private flags = 0;

  constructor(private readonly out: NotifyPublisher) {}

  setFlags(flags: number): void {
    this.flags = flags;
  }

  notify(type: NotifyClass, event: string, key: string, db: Db): void {
    const flags = this.flags;
    if ((flags & CLASS_BITS[type]) === 0) return;
    if (flags & NOTIFY_KEYSPACE) this.out.publish(`__keyspace@${db.id}__:${key}`, event);
    if (flags & NOTIFY_KEYEVENT) this.out.publish(`__keyevent@${db.id}__:${event}`, key);
  }
}
