/**
 * The stream command family table. Handlers: stream-basic.ts (XADD XRANGE XREVRANGE XLEN XDEL
 * XTRIM XSETID), stream-read.ts (XREAD XREADGROUP), stream-group.ts (XGROUP XACK XPENDING XCLAIM
 * XAUTOCLAIM), stream-info.ts (XINFO); the value type is types/stream.ts.
 */
import type { CommandDef } from './spec.js';
import { xaddCommand, xdelCommand, xlenCommand, xrangeCommand, xrevrangeCommand, xsetidCommand, xtrimCommand } from './stream-basic.js';
import { xreadCommand, xreadgroupCommand, xreadKeys } from './stream-read.js';
import {
  xackCommand,
  xautoclaimCommand,
  xclaimCommand,
  xgroupCreateCommand,
  xgroupCreateconsumerCommand,
  xgroupDelconsumerCommand,
  xgroupDestroyCommand,
  xgroupHelpCommand,
  xgroupSetidCommand,
  xpendingCommand,
} from './stream-group.js';
import { xinfoConsumersCommand, xinfoGroupsCommand, xinfoHelpCommand, xinfoStreamCommand } from './stream-info.js';

export const streamCommands: CommandDef[] = [
  { name: 'xadd', handler: xaddCommand },
  { name: 'xrange', handler: xrangeCommand },
  { name: 'xrevrange', handler: xrevrangeCommand },
  { name: 'xlen', handler: xlenCommand },
  { name: 'xdel', handler: xdelCommand },
  { name: 'xtrim', handler: xtrimCommand },
  { name: 'xsetid', handler: xsetidCommand },
  { name: 'xread', handler: xreadCommand, getKeys: xreadKeys },
  { name: 'xreadgroup', handler: xreadgroupCommand, getKeys: xreadKeys },
  { name: 'xack', handler: xackCommand },
  { name: 'xpending', handler: xpendingCommand },
  { name: 'xclaim', handler: xclaimCommand },
  { name: 'xautoclaim', handler: xautoclaimCommand },
  {
    name: 'xgroup',
    subcommands: [
      { name: 'create', handler: xgroupCreateCommand },
      { name: 'setid', handler: xgroupSetidCommand },
      { name: 'destroy', handler: xgroupDestroyCommand },
      { name: 'createconsumer', handler: xgroupCreateconsumerCommand },
      { name: 'delconsumer', handler: xgroupDelconsumerCommand },
      { name: 'help', handler: xgroupHelpCommand },
    ],
  },
  {
    name: 'xinfo',
    subcommands: [
      { name: 'stream', handler: xinfoStreamCommand },
      { name: 'groups', handler: xinfoGroupsCommand },
      { name: 'consumers', handler: xinfoConsumersCommand },
      { name: 'help', handler: xinfoHelpCommand },
    ],
  },
];
