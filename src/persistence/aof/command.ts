/**
 * BGREWRITEAOF (Redis 7.0 bgrewriteaofCommand). Registered by the persistence command family.
 *
 *   +Background append only file rewriting started
 *   +Background append only file rewriting scheduled     another snapshot runs, or inside EXEC
 *   -ERR Background append only file rewriting already in progress
 *   -ERR Can't execute an AOF background rewriting. Please check the server logs for more information.
 */
import type { Client } from '../../net/client.js';
import { isExecuting } from '../../server/transactions.js';

export function bgrewriteaofCommand(c: Client): void {
  switch (c.server.persistence.aof.bgrewriteaof(isExecuting(c))) {
    case 'in-progress':
      c.w.error('ERR Background append only file rewriting already in progress');
      return;
    case 'scheduled':
      c.w.simple('Background append only file rewriting scheduled');
      return;
    case 'started':
      c.w.simple('Background append only file rewriting started');
      return;
    case 'error':
      c.w.error("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.");
      return;
  }
}
