/** The replication command family. */
import type { CommandDef } from './spec.js';

export const replicationCommands: CommandDef[] = [];
