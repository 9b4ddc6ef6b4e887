/** SORT and SORT_RO. */
import type { CommandDef } from './spec.js';

export const sortCommands: CommandDef[] = [];
