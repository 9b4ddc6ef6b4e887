/** The debug command family. */
import type { CommandDef } from './spec.js';

export const debugCommands: CommandDef[] = [];
