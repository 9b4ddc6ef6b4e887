/** The list command family. */
import type { CommandDef } from './spec.js';

export const listCommands: CommandDef[] = [];
