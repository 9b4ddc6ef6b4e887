/** The set command family. */
import type { CommandDef } from './spec.js';

export const setCommands: CommandDef[] = [];
