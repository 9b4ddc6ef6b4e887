/** The persistence command family. */
import type { CommandDef } from './spec.js';

export const persistenceCommands: CommandDef[] = [];
