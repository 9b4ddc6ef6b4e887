/**
 * The cached clock. Redis reads the time once per command (and once per event-loop turn for
 * expiry decisions), so every key touched by one command, or by one MULTI/EXEC, sees the same
 * "now". `update()` is called when a batch of input is processed and by timers.
 */
export class Clock {
  /** Milliseconds since the epoch, as of the last update. */
  ms = Date.now();

  update(): number {
    this.ms = Date.now();
    return this.ms;
  }

  /** Seconds since the epoch (integer). */
  get seconds(): number {
    return Math.floor(this.ms / 1000);
  }
}

/** Monotonic microseconds, for durations (command stats, slowlog, latency). */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
