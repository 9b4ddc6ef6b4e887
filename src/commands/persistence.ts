/**
 * The persistence command family: SAVE, BGSAVE, LASTSAVE, DUMP, RESTORE.
 * Replies and error texts are Redis 7.0's (rdb.c saveCommand/bgsaveCommand, cluster.c
 * dumpCommand/restoreCommand).
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';
import { is } from './args.js';
import { isExecuting } from '../server/transactions.js';
import { createDumpPayload, parseDumpPayload, verifyDumpPayload } from '../persistence/rdb/index.js';
import { bgrewriteaofCommand } from '../persistence/aof/index.js';

const IN_PROGRESS = 'ERR Background save already in progress';

function saveCommand(c: Client): void {
  const p = c.server.persistence;
  if (p.rdbChildActive) {
    c.w.error(IN_PROGRESS);
    return;
  }
  if (p.saveSync() === null) c.w.ok();
  else c.w.error('ERR');
}

function bgsaveCommand(c: Client, argv: string[]): void {
  let schedule = false;
  if (argv.length > 1) {
    if (argv.length === 2 && is(argv[1]!, 'schedule')) {
      schedule = true;
    } else {
      c.w.error(Err.syntax);
      return;
    }
  }
  switch (c.server.persistence.bgsaveCommand(schedule, isExecuting(c))) {
    case 'in-progress':
      c.w.error(IN_PROGRESS);
      return;
    case 'scheduled':
      c.w.simple('Background saving scheduled');
      return;
    case 'started':
      c.w.simple('Background saving started');
      return;
    case 'other-child':
      c.w.error("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
      return;
    case 'error':
      c.w.error('ERR');
      return;
  }
}

function lastsaveCommand(c: Client): void {
  c.w.int(c.server.persistence.lastSaveTime);
}

function dumpCommand(c: Client, argv: string[]): void {
  const v = c.db.lookupRead(argv[1]!);
  if (v === undefined) {
    c.server.stats.keyspaceMisses++;
    c.w.nullBulk();
    return;
  }
  c.server.stats.keyspaceHits++;
  c.w.bulkBuffer(createDumpPayload(v, c.server.config));
}

/** RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency] */
function restoreCommand(c: Client, argv: string[]): void {
  const server = c.server;
  let replace = false;
  let absttl = false;
  let idle = -1;
  let freq = -1;
  for (let j = 4; j < argv.length; j++) {
    const a = argv[j]!;
    const more = argv.length - j - 1;
    if (is(a, 'replace')) {
      replace = true;
    } else if (is(a, 'absttl')) {
      absttl = true;
    } else if (is(a, 'idletime') && more >= 1 && freq === -1) {
      const n = parseInt64(argv[++j]!);
      if (n === null) return c.w.error(Err.notInteger);
      if (n < 0) return c.w.error('ERR Invalid IDLETIME value, must be >= 0');
      idle = n;
    } else if (is(a, 'freq') && more >= 1 && idle === -1) {
      const n = parseInt64(argv[++j]!);
      if (n === null) return c.w.error(Err.notInteger);
      if (n < 0 || n > 255) return c.w.error('ERR Invalid FREQ value, must be >= 0 and <= 255');
      freq = n;
    } else {
      return c.w.error(Err.syntax);
    }
  }
  const key = argv[1]!;
  const db = c.db;
  if (!replace && db.lookupWrite(key) !== undefined) return c.w.error(Err.busyKey);
  let ttl = parseInt64(argv[2]!);
  if (ttl === null) return c.w.error(Err.notInteger);
  if (ttl < 0) return c.w.error('ERR Invalid TTL value, must be >= 0');
  const payload = Buffer.from(argv[3]!, 'latin1');
  if (!verifyDumpPayload(payload)) return c.w.error('ERR DUMP payload version or checksum are wrong');
  let value;
  try {
    value = parseDumpPayload(payload, server.config);
  } catch {
    return c.w.error('ERR Bad data format');
  }
  const deleted = replace ? db.delete(key) : false;
  if (ttl !== 0 && !absttl) ttl += Date.now();
  // checkAlreadyExpired: a replica (or a loading server) never treats the TTL as past.
  if (ttl !== 0 && ttl <= Date.now() && !server.persistence.loading && !server.repl.isReplica) {
    if (deleted) {
      server.propagator.rewrite([server.config.bool('lazyfree-lazy-server-del') ? 'UNLINK' : 'DEL', key]);
      server.keyspace.changed(db, key, 'g', 'del');
    }
    c.w.ok();
    return;
  }
  db.add(key, value);
  if (ttl !== 0) {
    db.setExpire(key, ttl);
    if (!absttl) {
      // Propagate the TTL as an absolute timestamp.
      const rewritten = argv.slice();
      rewritten[2] = String(ttl);
      rewritten.push('ABSTTL');
      server.propagator.rewrite(rewritten);
    }
  }
  // IDLETIME/FREQ are validated like Redis; Mirra keeps no LRU/LFU metadata to set.
  server.keyspace.changed(db, key, 'g', 'restore');
  c.w.ok();
}

export const persistenceCommands: CommandDef[] = [
  { name: 'save', handler: saveCommand },
  { name: 'bgsave', handler: bgsaveCommand },
  { name: 'bgrewriteaof', handler: bgrewriteaofCommand },
  { name: 'lastsave', handler: lastsaveCommand },
  { name: 'dump', handler: dumpCommand },
  { name: 'restore', handler: restoreCommand },
];
