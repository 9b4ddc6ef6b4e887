/**
 * SLOWLOG: the last `slowlog-max-len` commands that took at least `slowlog-log-slower-than` µs.
 */
import type { Client } from '../net/client.js';

export interface SlowlogEntry {
  id: number;
  time: number;
  durationUs: number;
  argv: string[];
  peer: string;
  name: string;
}

export class Slowlog {
  entries: SlowlogEntry[] = [];
  private nextId = 0;
  maxLen = 128;

  record(c: Client, argv: string[], us: number): void {
    if (this.maxLen === 0) return;
    // Redis keeps at most 32 arguments and 128 bytes per argument.
    const kept: string[] = [];
    const n = Math.min(argv.length, 32);
    for (let i = 0; i < n; i++) {
      if (i === 31 && argv.length > 32) {
        kept.push(`... (${argv.length - 31} more arguments)`);
        break;
      }
      const a = argv[i]!;
      kept.push(a.length > 128 ? `${a.slice(0, 128)}... (${a.length - 128} more bytes)` : a);
    }
    this.entries.unshift({ id: this.nextId++, time: Math.floor(Date.now() / 1000), durationUs: us, argv: kept, peer: c.addr, name: c.name });
    if (this.entries.length > this.maxLen) this.entries.length = this.maxLen;
  }

  reset(): void {
    this.entries = [];
  }
}
