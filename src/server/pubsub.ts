/**
 * Pub/Sub: channel, pattern and shard-channel subscriptions, PUBLISH fan-out, and keyspace
 * notifications (published through the same path).
 *
 * Server side, each namespace maps a channel (or pattern) to the set of subscribed clients, in
 * subscription order; each client keeps its own sets in `c.pubsubState` so that unsubscribing
 * everything and disconnecting are proportional to the client's own subscriptions. Shard
 * channels (SSUBSCRIBE/SPUBLISH) are a separate namespace that, in a standalone server, behaves
 * exactly like the plain one.
 *
 * Messages are written into the subscriber's reply writer at once (so they are ordered with
 * its other replies, as in Redis); the socket write is batched: every subscriber that received
 * something is flushed once when the current turn of work ends, not once per message.
 *
 * `c.flags.pubsub` is kept equal to "subscribed to anything" (it selects the RESP2 subscribed
 * mode in the dispatcher and the pubsub output-buffer class).
 */
import type { Client } from '../net/client.js';
import type { Server } from './server.js';
import { globMatch } from '../util/glob.js';
import { KeyspaceNotifier } from './notify.js';

export interface ClientPubSub {
  channels: Set<string>;
  patterns: Set<string>;
  shardChannels: Set<string>;
}

export type SubscriptionKind = 'channel' | 'pattern' | 'shard';

/** The reply words of each kind: [subscribe, unsubscribe]. */
const WORDS: Record<SubscriptionKind, [string, string]> = {
  channel: ['subscribe', 'unsubscribe'],
  pattern: ['psubscribe', 'punsubscribe'],
  shard: ['ssubscribe', 'sunsubscribe'],
};

export class PubSub {
  private readonly channels = new Map<string, Set<Client>>();
  private readonly patterns = new Map<string, Set<Client>>();
  private readonly shardChannels = new Map<string, Set<Client>>();
  /** Subscribers with messages written since the last batched flush. */
  private readonly toFlush = new Set<Client>();
  private flushScheduled = false;
  readonly notifier: KeyspaceNotifier;

  constructor(readonly server: Server) {
    this.notifier = new KeyspaceNotifier(this);
    server.config.watch('notify-keyspace-events', (v) => this.notifier.setFlags(v as number));
    server.keyspace.addListener(this.notifier);
  }

  // ---------------------------------------------------------------------------------------
  // Subscriptions

  private state(c: Client): ClientPubSub {
    let st = c.pubsubState as ClientPubSub | null;
    if (st === null) {
      st = { channels: new Set(), patterns: new Set(), shardChannels: new Set() };
      c.pubsubState = st;
    }
    return st;
  }

  private clientSet(st: ClientPubSub, kind: SubscriptionKind): Set<string> {
    return kind === 'channel' ? st.channels : kind === 'pattern' ? st.patterns : st.shardChannels;
  }

  private serverMap(kind: SubscriptionKind): Map<string, Set<Client>> {
    return kind === 'channel' ? this.channels : kind === 'pattern' ? this.patterns : this.shardChannels;
  }

  /**
   * The count shown in (un)subscribe replies: channels + patterns for the plain namespace,
   * shard channels alone for the shard namespace (Redis 7.0).
   */
  private replyCount(st: ClientPubSub | null, kind: SubscriptionKind): number {
    if (st === null) return 0;
    return kind === 'shard' ? st.shardChannels.size : st.channels.size + st.patterns.size;
  }

  /** SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE: subscribes and writes one confirmation per name. */
  subscribe(c: Client, kind: SubscriptionKind, names: readonly string[]): void {
    const st = this.state(c);
    const mine = this.clientSet(st, kind);
    const map = this.serverMap(kind);
    const word = WORDS[kind][0];
    for (const name of names) {
      if (!mine.has(name)) {
        mine.add(name);
        let subs = map.get(name);
        if (subs === undefined) {
          subs = new Set();
          map.set(name, subs);
        }
        subs.add(c);
      }
      this.writeConfirmation(c, word, name, this.replyCount(st, kind));
    }
    c.flags.pubsub = true;
  }

  /**
   * UNSUBSCRIBE / PUNSUBSCRIBE / SUNSUBSCRIBE. With no names, leaves every subscription of the
   * kind; when there was none, a single confirmation with a null name is written.
   */
  unsubscribe(c: Client, kind: SubscriptionKind, names: readonly string[] | null, notify = true): void {
    const st = c.pubsubState as ClientPubSub | null;
    const word = WORDS[kind][1];
    if (names === null) {
      const mine = st === null ? null : this.clientSet(st, kind);
      if (mine === null || mine.size === 0) {
        if (notify) this.writeConfirmation(c, word, null, this.replyCount(st, kind));
      } else {
        for (const name of [...mine]) this.unsubscribeOne(c, st!, kind, name, notify);
      }
    } else {
      for (const name of names) {
        if (st === null) {
          if (notify) this.writeConfirmation(c, word, name, 0);
        } else this.unsubscribeOne(c, st, kind, name, notify);
      }
    }
    this.updateFlag(c);
  }

  private unsubscribeOne(c: Client, st: ClientPubSub, kind: SubscriptionKind, name: string, notify: boolean): void {
    const mine = this.clientSet(st, kind);
    if (mine.delete(name)) {
      const map = this.serverMap(kind);
      const subs = map.get(name);
      if (subs !== undefined) {
        subs.delete(c);
        if (subs.size === 0) map.delete(name);
      }
    }
    if (notify) this.writeConfirmation(c, WORDS[kind][1], name, this.replyCount(st, kind));
  }

  private updateFlag(c: Client): void {
    const st = c.pubsubState as ClientPubSub | null;
    c.flags.pubsub = st !== null && st.channels.size + st.patterns.size + st.shardChannels.size > 0;
  }

  private writeConfirmation(c: Client, word: string, name: string | null, count: number): void {
    const w = c.w;
    w.push(3);
    w.bulk(word);
    if (name === null) w.nullBulk();
    else w.bulk(name);
    w.int(count);
  }

  /** Unsubscribes from everything (RESET, QUIT); `notify` sends the unsubscribe frames. */
  unsubscribeAll(c: Client, notify: boolean): void {
    if (c.pubsubState === null) return;
    this.unsubscribe(c, 'channel', null, notify);
    this.unsubscribe(c, 'shard', null, notify);
    this.unsubscribe(c, 'pattern', null, notify);
    c.pubsubState = null;
    c.flags.pubsub = false;
  }

  onClientClosed(c: Client): void {
    this.unsubscribeAll(c, false);
    this.toFlush.delete(c);
  }

  // ---------------------------------------------------------------------------------------
  // Publishing

  /** Delivers a message to channel and pattern subscribers; returns the number of receivers. */
  publish(channel: string, message: string): number {
    let receivers = 0;
    const subs = this.channels.get(channel);
    if (subs !== undefined) {
      for (const c of subs) {
        const w = c.w;
        w.push(3);
        w.bulk('message');
        w.bulk(channel);
        w.bulk(message);
        this.scheduleFlush(c);
        receivers++;
      }
    }
    if (this.patterns.size > 0) {
      for (const [pattern, clients] of this.patterns) {
        if (!globMatch(pattern, channel)) continue;
        for (const c of clients) {
          const w = c.w;
          w.push(4);
          w.bulk('pmessage');
          w.bulk(pattern);
          w.bulk(channel);
          w.bulk(message);
          this.scheduleFlush(c);
          receivers++;
        }
      }
    }
    return receivers;
  }

  /** SPUBLISH: delivers to shard-channel subscribers only. */
  publishShard(channel: string, message: string): number {
    const subs = this.shardChannels.get(channel);
    if (subs === undefined) return 0;
    for (const c of subs) {
      const w = c.w;
      w.push(3);
      w.bulk('smessage');
      w.bulk(channel);
      w.bulk(message);
      this.scheduleFlush(c);
    }
    return subs.size;
  }

  private scheduleFlush(c: Client): void {
    this.toFlush.add(c);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Runs when the current batch of commands (one socket read, a cron tick) has finished.
    queueMicrotask(() => this.flushSubscribers());
  }

  private flushSubscribers(): void {
    this.flushScheduled = false;
    const list = [...this.toFlush];
    this.toFlush.clear();
    for (const c of list) if (!c.flags.closed) c.flush();
  }

  // ---------------------------------------------------------------------------------------
  // Introspection (PUBSUB, INFO, CLIENT LIST)

  /** [channels, patterns, shard channels] the client is subscribed to. */
  counts(c: Client): [number, number, number] {
    const st = c.pubsubState as ClientPubSub | null;
    if (st === null) return [0, 0, 0];
    return [st.channels.size, st.patterns.size, st.shardChannels.size];
  }

  /** Channels (or shard channels) with at least one subscriber, optionally matching a glob. */
  activeChannels(kind: 'channel' | 'shard', pattern: string | null): string[] {
    const map = kind === 'channel' ? this.channels : this.shardChannels;
    const out: string[] = [];
    for (const name of map.keys()) if (pattern === null || globMatch(pattern, name)) out.push(name);
    return out;
  }

  /** Subscribers of a channel (or shard channel), pattern subscriptions excluded. */
  subscriberCount(kind: 'channel' | 'shard', channel: string): number {
    const map = kind === 'channel' ? this.channels : this.shardChannels;
    return map.get(channel)?.size ?? 0;
  }

  /** Channels with at least one subscriber (INFO pubsub_channels). */
  channelCount(): number {
    return this.channels.size;
  }

  /** Distinct patterns with at least one subscriber (INFO pubsub_patterns, PUBSUB NUMPAT). */
  patternCount(): number {
    return this.patterns.size;
  }

  /** Shard channels with at least one subscriber (INFO pubsubshard_channels). */
  shardChannelCount(): number {
    return this.shardChannels.size;
  }
}
