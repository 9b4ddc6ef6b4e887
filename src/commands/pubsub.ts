/** The pubsub command family. */
import type { CommandDef } from './spec.js';

export const pubsubCommands: CommandDef[] = [];
