/**
 * REPLCONF, the replica's side of the handshake (replication.md §3.1): listening-port,
 * ip-address, capa, rdb-only, rdb-filter-only (answered +OK), ack and getack (never answered).
 * Options are applied in order; the first invalid one answers its error and stops, as in
 * Redis's replconfCommand.
 */
import type { Client } from '../net/client.js';
import type { MasterSide } from './master.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';
import { linkOf, CAPA_EOF, CAPA_PSYNC2, REQ_RDB_EXCLUDE_DATA, REQ_RDB_EXCLUDE_FUNCTIONS } from './master-link.js';

export function replconfCommand(m: MasterSide, c: Client, argv: string[]): void {
  if (argv.length % 2 === 0) {
    c.w.error(Err.syntax);
    return;
  }
  const r = linkOf(c);
  for (let j = 1; j < argv.length; j += 2) {
    const opt = argv[j]!.toLowerCase();
    const val = argv[j + 1]!;
    switch (opt) {
      case 'listening-port': {
        const port = parseInt64(val);
        if (port === null) {
          c.w.error(Err.notInteger);
          return;
        }
        r.listeningPort = port;
        break;
      }
      case 'ip-address':
        if (val.length >= 256) {
          c.w.error(`ERR REPLCONF ip-address provided by replica instance is too long: ${val.length} bytes`);
          return;
        }
        r.announcedIp = val;
        break;
      case 'capa': {
        const capa = val.toLowerCase();
        if (capa === 'eof') r.capa |= CAPA_EOF;
        else if (capa === 'psync2') r.capa |= CAPA_PSYNC2;
        // Unknown capabilities are ignored: replicas may be newer than us.
        break;
      }
      case 'ack':
        // Never answered; only replicas may send it.
        m.onAck(c, val);
        return;
      case 'getack':
        // Never answered on a master. A replica's master link answers GETACK in its stream
        // reader (with the offset before the GETACK itself), so nothing is left to do here.
        return;
      case 'rdb-only': {
        const n = parseInt64(val);
        if (n === null) {
          c.w.error(Err.notInteger);
          return;
        }
        if (n < 0 || n > 1) {
          c.w.error('ERR value is out of range, value must between 0 and 1');
          return;
        }
        r.rdbOnly = n === 1;
        break;
      }
      case 'rdb-filter-only': {
        const filters = splitArgs(val);
        if (filters === null) {
          c.w.error('ERR Missing rdb-filter-only values');
          return;
        }
        // Everything is filtered out, except what is listed ("" = an empty RDB).
        r.req |= REQ_RDB_EXCLUDE_DATA | REQ_RDB_EXCLUDE_FUNCTIONS;
        for (const f of filters) {
          if (f.toLowerCase() === 'functions') r.req &= ~REQ_RDB_EXCLUDE_FUNCTIONS;
          else {
            c.w.error(`ERR Unsupported rdb-filter-only option: ${f}`);
            return;
          }
        }
        break;
      }
      default:
        c.w.error(`ERR Unrecognized REPLCONF option: ${argv[j]}`);
        return;
    }
  }
  c.w.ok();
}

/**
 * Redis sdssplitargs for REPLCONF rdb-filter-only: words, with "double" (escapes) and 'single'
 * quotes. Null on unbalanced quotes.
 */
function splitArgs(s: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = s.length;
  const isSpace = (ch: string): boolean => ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t' || ch === '\v' || ch === '\f';
  for (;;) {
    while (i < n && isSpace(s[i]!)) i++;
    if (i >= n) return out;
    let cur = '';
    let inDq = false;
    let inSq = false;
    for (;;) {
      if (inDq) {
        if (i >= n) return null;
        const ch = s[i]!;
        if (ch === '\\' && i + 3 < n && s[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
          cur += String.fromCharCode(parseInt(s.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (ch === '\\' && i + 1 < n) {
          i++;
          const e = s[i]!;
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (ch === '"') {
          // A closing quote must be followed by a space or the end.
          if (i + 1 < n && !isSpace(s[i + 1]!)) return null;
          inDq = false;
          i++;
          break;
        } else cur += ch;
      } else if (inSq) {
        if (i >= n) return null;
        const ch = s[i]!;
        if (ch === '\\' && i + 1 < n && s[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (ch === "'") {
          if (i + 1 < n && !isSpace(s[i + 1]!)) return null;
          inSq = false;
          i++;
          break;
        } else cur += ch;
      } else {
        if (i >= n) break;
        const ch = s[i]!;
        if (isSpace(ch)) break;
        if (ch === '"') inDq = true;
        else if (ch === "'") inSq = true;
        else cur += ch;
      }
      i++;
    }
    out.push(cur);
  }
}
