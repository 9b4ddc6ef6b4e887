/** The hash command family. */
import type { CommandDef } from './spec.js';

export const hashCommands: CommandDef[] = [];
