/**
 * The pubsub command family: SUBSCRIBE PSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE SSUBSCRIBE
 * SUNSUBSCRIBE PUBLISH SPUBLISH and PUBSUB CHANNELS|NUMSUB|NUMPAT|SHARDCHANNELS|SHARDNUMSUB|HELP.
 * The state lives in server/pubsub.ts.
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';
import { isExecuting } from '../server/transactions.js';

function subscribe(c: Client, argv: string[]): void {
  c.server.pubsub.subscribe(c, 'channel', argv.slice(1));
}

function psubscribe(c: Client, argv: string[]): void {
  c.server.pubsub.subscribe(c, 'pattern', argv.slice(1));
}

function ssubscribe(c: Client, argv: string[]): void {
  // Redis denies it to clients that expect one reply per command; inside EXEC that is the case.
  if (isExecuting(c)) {
    c.w.error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
    return;
  }
  c.server.pubsub.subscribe(c, 'shard', argv.slice(1));
}

function unsubscribe(c: Client, argv: string[]): void {
  c.server.pubsub.unsubscribe(c, 'channel', argv.length > 1 ? argv.slice(1) : null);
}

function punsubscribe(c: Client, argv: string[]): void {
  c.server.pubsub.unsubscribe(c, 'pattern', argv.length > 1 ? argv.slice(1) : null);
}

function sunsubscribe(c: Client, argv: string[]): void {
  c.server.pubsub.unsubscribe(c, 'shard', argv.length > 1 ? argv.slice(1) : null);
}

/** PUBLISH is propagated to replicas although it changes no data (Redis forces it). */
function publish(c: Client, argv: string[]): void {
  const receivers = c.server.pubsub.publish(argv[1]!, argv[2]!);
  c.server.propagator.force(true);
  c.w.int(receivers);
}

function spublish(c: Client, argv: string[]): void {
  const receivers = c.server.pubsub.publishShard(argv[1]!, argv[2]!);
  c.server.propagator.force(true);
  c.w.int(receivers);
}

// ---------------------------------------------------------------------------------------------
// PUBSUB

function syntaxError(c: Client, argv: string[]): void {
  c.w.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!}'. Try PUBSUB HELP.`);
}

function channelsOf(kind: 'channel' | 'shard') {
  return (c: Client, argv: string[]): void => {
    if (argv.length > 3) {
      syntaxError(c, argv);
      return;
    }
    c.w.bulkArray(c.server.pubsub.activeChannels(kind, argv.length === 3 ? argv[2]! : null));
  };
}

function numsubOf(kind: 'channel' | 'shard') {
  return (c: Client, argv: string[]): void => {
    // A flat array of (channel, count) pairs in both protocols, as Redis 7.0 replies.
    c.w.array((argv.length - 2) * 2);
    for (let i = 2; i < argv.length; i++) {
      c.w.bulk(argv[i]!);
      c.w.int(c.server.pubsub.subscriberCount(kind, argv[i]!));
    }
  };
}

function numpat(c: Client): void {
  c.w.int(c.server.pubsub.patternCount());
}

const PUBSUB_HELP = [
  'PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
  'HELP',
  '    Prints this help.',
];

function pubsubHelp(c: Client): void {
  c.w.array(PUBSUB_HELP.length);
  for (const line of PUBSUB_HELP) c.w.simple(line);
}

export const pubsubCommands: CommandDef[] = [
  { name: 'subscribe', handler: subscribe },
  { name: 'psubscribe', handler: psubscribe },
  { name: 'ssubscribe', handler: ssubscribe },
  { name: 'unsubscribe', handler: unsubscribe },
  { name: 'punsubscribe', handler: punsubscribe },
  { name: 'sunsubscribe', handler: sunsubscribe },
  { name: 'publish', handler: publish },
  { name: 'spublish', handler: spublish },
  {
    name: 'pubsub',
    subcommands: [
      { name: 'channels', handler: channelsOf('channel') },
      { name: 'numsub', handler: numsubOf('channel') },
      { name: 'numpat', handler: numpat },
      { name: 'shardchannels', handler: channelsOf('shard') },
      { name: 'shardnumsub', handler: numsubOf('shard') },
      { name: 'help', handler: pubsubHelp },
    ],
  },
];
