/** The zset command family. */
import type { CommandDef } from './spec.js';

export const zsetCommands: CommandDef[] = [];
