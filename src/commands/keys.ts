/** The keys command family. */
import type { CommandDef } from './spec.js';

export const keysCommands: CommandDef[] = [];
