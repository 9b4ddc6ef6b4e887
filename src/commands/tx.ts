/** The tx command family. */
import type { CommandDef } from './spec.js';

export const txCommands: CommandDef[] = [];
