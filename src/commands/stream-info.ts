/**
 * XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS, XINFO HELP (Redis 7.0 field
 * sets and order).
 */
import type { Client } from '../net/client.js';
import type { StreamValue } from '../types/stream.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';
import { ID_MAX, ID_MIN, formatId, groupLag, readStream, writeEntry } from './stream-common.js';
import { writeHelp } from './stream-group.js';

function lookupOrNoKey(c: Client, key: string): StreamValue | null {
  const s = readStream(c, key);
  if (s === null) return null;
  if (s === undefined) {
    c.w.error(Err.noSuchKey);
    return null;
  }
  return s;
}

function subcommandSyntaxError(c: Client, sub: string): void {
  c.w.error(`ERR unknown subcommand or wrong number of arguments for '${sub.slice(0, 128)}'. Try XINFO HELP.`);
}

function writeLag(c: Client, lag: number | null): void {
  if (lag === null) c.w.nullBulk();
  else c.w.int(lag);
}

export function xinfoStreamCommand(c: Client, argv: string[]): void {
  const s = lookupOrNoKey(c, argv[2]!);
  if (s === null) return;
  let full = true;
  let count = 10;
  const optc = argv.length - 3;
  if (optc === 0) full = false;
  else {
    if ((optc !== 1 && optc !== 3) || argv[3]!.toLowerCase() !== 'full') {
      subcommandSyntaxError(c, argv[1]!);
      return;
    }
    if (optc === 3) {
      if (argv[4]!.toLowerCase() !== 'count') {
        subcommandSyntaxError(c, argv[1]!);
        return;
      }
      const n = parseInt64(argv[5]!);
      if (n === null) {
        c.w.error(Err.notInteger);
        return;
      }
      count = n < 0 ? 10 : n;
    }
  }
  const w = c.w;
  w.map(full ? 9 : 10);
  w.bulk('length');
  w.int(s.length);
  w.bulk('radix-tree-keys');
  w.int(s.nodes.length);
  w.bulk('radix-tree-nodes');
  w.int(s.raxNodeCount());
  w.bulk('last-generated-id');
  w.bulk(formatId(s.lastId));
  w.bulk('max-deleted-entry-id');
  w.bulk(formatId(s.maxDeletedId));
  w.bulk('entries-added');
  w.int(s.entriesAdded);
  w.bulk('recorded-first-entry-id');
  w.bulk(formatId(s.firstId));
  if (!full) {
    w.bulk('groups');
    w.int(s.groups === null ? 0 : s.groups.size);
    w.bulk('first-entry');
    let found = false;
    s.range(ID_MIN, ID_MAX, false, (id, fields) => {
      writeEntry(c, id, fields);
      found = true;
      return false;
    });
    if (!found) w.nullBulk();
    w.bulk('last-entry');
    found = false;
    s.range(ID_MIN, ID_MAX, true, (id, fields) => {
      writeEntry(c, id, fields);
      found = true;
      return false;
    });
    if (!found) w.nullBulk();
    return;
  }
  w.bulk('entries');
  const token = w.beginDeferred();
  let n = 0;
  s.range(ID_MIN, ID_MAX, false, (id, fields) => {
    writeEntry(c, id, fields);
    n++;
    return count === 0 || n < count;
  });
  w.endDeferred(token, n);
  w.bulk('groups');
  const groups = s.sortedGroups();
  w.array(groups.length);
  for (const g of groups) {
    w.map(7);
    w.bulk('name');
    w.bulk(g.name);
    w.bulk('last-delivered-id');
    w.bulk(formatId(g.lastId));
    w.bulk('entries-read');
    if (g.entriesRead === -1) w.nullBulk();
    else w.int(g.entriesRead);
    w.bulk('lag');
    writeLag(c, groupLag(s, g));
    w.bulk('pel-count');
    w.int(g.pel.size);
    w.bulk('pending');
    const pn = count === 0 ? g.pel.size : Math.min(count, g.pel.size);
    w.array(pn);
    let k = 0;
    for (const p = g.pel.first(); p.valid && k < pn; p.next(), k++) {
      const nack = p.value;
      w.array(4);
      w.bulk(formatId(p.member));
      w.bulk(nack.consumer!.name);
      w.int(nack.deliveryTime);
      w.int(nack.deliveryCount);
    }
    w.bulk('consumers');
    const consumers = g.sortedConsumers();
    w.array(consumers.length);
    for (const cons of consumers) {
      w.map(4);
      w.bulk('name');
      w.bulk(cons.name);
      w.bulk('seen-time');
      w.int(cons.seenTime);
      w.bulk('pel-count');
      w.int(cons.pel.size);
      w.bulk('pending');
      const cn = count === 0 ? cons.pel.size : Math.min(count, cons.pel.size);
      w.array(cn);
      let m = 0;
      for (const p = cons.pel.first(); p.valid && m < cn; p.next(), m++) {
        w.array(3);
        w.bulk(formatId(p.member));
        w.int(p.value.deliveryTime);
        w.int(p.value.deliveryCount);
      }
    }
  }
}

export function xinfoGroupsCommand(c: Client, argv: string[]): void {
  const s = lookupOrNoKey(c, argv[2]!);
  if (s === null) return;
  const w = c.w;
  const groups = s.sortedGroups();
  w.array(groups.length);
  for (const g of groups) {
    w.map(6);
    w.bulk('name');
    w.bulk(g.name);
    w.bulk('consumers');
    w.int(g.consumers.size);
    w.bulk('pending');
    w.int(g.pel.size);
    w.bulk('last-delivered-id');
    w.bulk(formatId(g.lastId));
    w.bulk('entries-read');
    if (g.entriesRead === -1) w.nullBulk();
    else w.int(g.entriesRead);
    w.bulk('lag');
    writeLag(c, groupLag(s, g));
  }
}

export function xinfoConsumersCommand(c: Client, argv: string[]): void {
  const s = lookupOrNoKey(c, argv[2]!);
  if (s === null) return;
  const g = s.group(argv[3]!);
  if (g === undefined) {
    c.w.error(`NOGROUP No such consumer group '${argv[3]!}' for key name '${argv[2]!}'`);
    return;
  }
  const now = Date.now();
  const w = c.w;
  const consumers = g.sortedConsumers();
  w.array(consumers.length);
  for (const cons of consumers) {
    w.map(3);
    w.bulk('name');
    w.bulk(cons.name);
    w.bulk('pending');
    w.int(cons.pel.size);
    w.bulk('idle');
    w.int(Math.max(0, now - cons.seenTime));
  }
}

const XINFO_HELP = [
  'XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
  'HELP',
  '    Prints this help.',
];

export function xinfoHelpCommand(c: Client): void {
  writeHelp(c, XINFO_HELP);
}
