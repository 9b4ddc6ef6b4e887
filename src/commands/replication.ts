/**
 * The replication command family: SYNC, PSYNC, REPLCONF, WAIT (master side, replication/
 * master.ts), ROLE (master form here, replica form from replication/replica.ts) and
 * REPLICAOF / SLAVEOF (replica side), FAILOVER (replication/failover.ts).
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';

function sync(c: Client, argv: string[]): void {
  c.server.repl.master.syncCommand(c, argv);
}

function replconf(c: Client, argv: string[]): void {
  c.server.repl.master.replconfCommand(c, argv);
}

function wait(c: Client, argv: string[]): void {
  c.server.repl.master.waitCommand(c, argv);
}

function role(c: Client): void {
  const repl = c.server.repl;
  if (repl.isReplica) repl.replica.roleReply(c);
  else repl.master.roleReply(c);
}

function failover(c: Client, argv: string[]): void {
  c.server.repl.master.failover.command(c, argv);
}

function replicaof(c: Client, argv: string[]): void {
  c.server.repl.replica.replicaof(c, argv[1]!, argv[2]!);
}

export const replicationCommands: CommandDef[] = [
  { name: 'sync', handler: sync },
  { name: 'psync', handler: sync },
  { name: 'replconf', handler: replconf },
  { name: 'wait', handler: wait },
  { name: 'role', handler: role },
  { name: 'replicaof', handler: replicaof },
  { name: 'slaveof', handler: replicaof },
  { name: 'failover', handler: failover },
];
