/**
 * Redis's active expire cycle (activeExpireCycle, "slow" variant): each cron tick samples keys
 * with a TTL in every DB and deletes the expired ones, repeating while more than a quarter of
 * the sample was expired, within a time budget of 25% of the tick (scaled by
 * active-expire-effort). Deletions propagate as DEL, unwrapped.
 *
 * Sampling walks each DB's expires map from a remembered position, so successive ticks cover
 * the whole map instead of re-reading the first keys.
 */
import type { Server } from '../server/server.js';

const KEYS_PER_LOOP = 20;

// Keyed by the expires map itself, so SWAPDB (which exchanges maps between DBs) cannot make a
// DB delete keys it samples from another DB's map.
const cursors = new WeakMap<Map<string, number>, Iterator<[string, number]>>();

export function activeExpireCycle(server: Server): void {
  const effort = server.config.int('active-expire-effort') - 1;
  const hz = server.config.int('hz');
  const budgetMs = ((25 + 2 * effort) * 1000) / hz / 100;
  const perLoop = KEYS_PER_LOOP + Math.floor((KEYS_PER_LOOP / 4) * effort);
  const deadline = performance.now() + budgetMs;
  const now = server.clock.ms;
  for (const db of server.keyspace.dbs) {
    if (db.expires.size === 0) continue;
    while (true) {
      let sampled = 0;
      let expired = 0;
      let ttlSum = 0;
      let ttlSamples = 0;
      let it = cursors.get(db.expires);
      if (!it) {
        it = db.expires.entries();
        cursors.set(db.expires, it);
      }
      while (sampled < perLoop && db.expires.size > 0) {
        let r = it.next();
        if (r.done) {
          it = db.expires.entries();
          cursors.set(db.expires, it);
          r = it.next();
          if (r.done) break;
        }
        const [key, when] = r.value;
        sampled++;
        if (when <= now) {
          db.deleteExpired(key);
          expired++;
        } else {
          ttlSum += when - now;
          ttlSamples++;
        }
      }
      if (ttlSamples > 0) {
        const avg = ttlSum / ttlSamples;
        db.avgTtl = db.avgTtl === 0 ? avg : (db.avgTtl / 50) * 49 + avg / 50;
      }
      if (performance.now() > deadline) return;
      if (sampled === 0 || expired * 4 <= sampled) break;
    }
  }
}
