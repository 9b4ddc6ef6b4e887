/** Every command family's table, in one list for table.ts. */
import type { CommandDef } from './spec.js';
import { connectionCommands } from './connection.js';
import { serverCommands } from './server.js';
import { stringCommands } from './string.js';
import { keysCommands } from './keys.js';
import { listCommands } from './list.js';
import { hashCommands } from './hash.js';
import { setCommands } from './set.js';
import { zsetCommands } from './zset.js';
import { streamCommands } from './stream.js';
import { txCommands } from './tx.js';
import { pubsubCommands } from './pubsub.js';
import { debugCommands } from './debug.js';
import { replicationCommands } from './replication.js';
import { persistenceCommands } from './persistence.js';
import { sortCommands } from './sort.js';
import { bitmapCommands } from './bitmap.js';
import { hyperloglogCommands } from './hyperloglog.js';
import { geoCommands } from './geo.js';

export const families: CommandDef[][] = [
  connectionCommands,
  serverCommands,
  stringCommands,
  keysCommands,
  listCommands,
  hashCommands,
  setCommands,
  zsetCommands,
  streamCommands,
  txCommands,
  pubsubCommands,
  debugCommands,
  replicationCommands,
  persistenceCommands,
  sortCommands,
  bitmapCommands,
  hyperloglogCommands,
  geoCommands,
];
