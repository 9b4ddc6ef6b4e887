/** The stream command family. */
import type { CommandDef } from './spec.js';

export const streamCommands: CommandDef[] = [];
