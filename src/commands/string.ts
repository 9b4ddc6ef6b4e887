/** The string command family. */
import type { CommandDef } from './spec.js';

export const stringCommands: CommandDef[] = [];
