/**
 * Pub/Sub: channel and pattern subscriptions, PUBLISH fan-out, keyspace notifications.
 */
import type { Client } from '../net/client.js';
import type { Server } from './server.js';

export class PubSub {
  constructor(readonly server: Server) {}

  /** Delivers a message; returns the number of receivers. */
  publish(_channel: string, _message: string): number {
    return 0;
  }

  /** Unsubscribes from everything (RESET, QUIT); `notify` sends the unsubscribe frames. */
  unsubscribeAll(_c: Client, _notify: boolean): void {}

  /** [channels, patterns, shard channels] the client is subscribed to. */
  counts(_c: Client): [number, number, number] {
    return [0, 0, 0];
  }

  channelCount(): number {
    return 0;
  }

  patternCount(): number {
    return 0;
  }

  onClientClosed(_c: Client): void {}
}
