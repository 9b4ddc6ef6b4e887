/**
 * The sorted-set command family table. Handlers live in zset-basic.ts (point commands),
 * zset-range.ts (ranges), zset-pop.ts (pops), zset-blocking.ts (BZPOP*) and zset-setops.ts
 * (union/intersection/difference); the value type is types/zset.ts.
 */
import type { CommandDef } from './spec.js';
import {
  zaddCommand,
  zcardCommand,
  zcountCommand,
  zincrbyCommand,
  zlexcountCommand,
  zmscoreCommand,
  zrandmemberCommand,
  zrankCommand,
  zremCommand,
  zrevrankCommand,
  zscanCommand,
  zscoreCommand,
} from './zset-basic.js';
import {
  zrangeCommand,
  zrangebylexCommand,
  zrangebyscoreCommand,
  zrangestoreCommand,
  zremrangebylexCommand,
  zremrangebyrankCommand,
  zremrangebyscoreCommand,
  zrevrangebylexCommand,
  zrevrangebyscoreCommand,
  zrevrangeCommand,
} from './zset-range.js';
import { zmpopCommand, zpopmaxCommand, zpopminCommand } from './zset-pop.js';
import { bzmpopCommand, bzpopmaxCommand, bzpopminCommand } from './zset-blocking.js';
import {
  zdiffCommand,
  zdiffstoreCommand,
  zinterCommand,
  zintercardCommand,
  zinterstoreCommand,
  zunionCommand,
  zunionstoreCommand,
} from './zset-setops.js';

/**
 * Key positions of "numkeys key [key ...]" commands: `first` is the numkeys index; `dst` adds a
 * destination key at index 1 (the *STORE forms). Invalid numkeys gives no keys.
 */
export function numkeysKeys(first: number, dst: boolean): (argv: string[]) => number[] {
  return (argv) => {
    const n = Number(argv[first]);
    const out: number[] = dst ? [1] : [];
    if (!Number.isInteger(n) || n < 1 || first + n >= argv.length) return out;
    for (let i = 1; i <= n; i++) out.push(first + i);
    return out;
  };
}

export const zsetCommands: CommandDef[] = [
  { name: 'zadd', handler: zaddCommand },
  { name: 'zincrby', handler: zincrbyCommand },
  { name: 'zrem', handler: zremCommand },
  { name: 'zcard', handler: zcardCommand },
  { name: 'zscore', handler: zscoreCommand },
  { name: 'zmscore', handler: zmscoreCommand },
  { name: 'zrank', handler: zrankCommand },
  { name: 'zrevrank', handler: zrevrankCommand },
  { name: 'zcount', handler: zcountCommand },
  { name: 'zlexcount', handler: zlexcountCommand },
  { name: 'zrandmember', handler: zrandmemberCommand },
  { name: 'zscan', handler: zscanCommand },
  { name: 'zrange', handler: zrangeCommand },
  { name: 'zrangestore', handler: zrangestoreCommand },
  { name: 'zrevrange', handler: zrevrangeCommand },
  { name: 'zrangebyscore', handler: zrangebyscoreCommand },
  { name: 'zrevrangebyscore', handler: zrevrangebyscoreCommand },
  { name: 'zrangebylex', handler: zrangebylexCommand },
  { name: 'zrevrangebylex', handler: zrevrangebylexCommand },
  { name: 'zremrangebyrank', handler: zremrangebyrankCommand },
  { name: 'zremrangebyscore', handler: zremrangebyscoreCommand },
  { name: 'zremrangebylex', handler: zremrangebylexCommand },
  { name: 'zpopmin', handler: zpopminCommand },
  { name: 'zpopmax', handler: zpopmaxCommand },
  { name: 'zmpop', handler: zmpopCommand, getKeys: numkeysKeys(1, false) },
  { name: 'bzpopmin', handler: bzpopminCommand },
  { name: 'bzpopmax', handler: bzpopmaxCommand },
  { name: 'bzmpop', handler: bzmpopCommand, getKeys: numkeysKeys(2, false) },
  { name: 'zunion', handler: zunionCommand, getKeys: numkeysKeys(1, false) },
  { name: 'zinter', handler: zinterCommand, getKeys: numkeysKeys(1, false) },
  { name: 'zdiff', handler: zdiffCommand, getKeys: numkeysKeys(1, false) },
  { name: 'zintercard', handler: zintercardCommand, getKeys: numkeysKeys(1, false) },
  { name: 'zunionstore', handler: zunionstoreCommand, getKeys: numkeysKeys(2, true) },
  { name: 'zinterstore', handler: zinterstoreCommand, getKeys: numkeysKeys(2, true) },
  { name: 'zdiffstore', handler: zdiffstoreCommand, getKeys: numkeysKeys(2, true) },
];
