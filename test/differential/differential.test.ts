/**
 * Differential test: every script in scripts/ runs against a real redis-server and Mirra;
 * any reply that differs fails the script's test with a readable diff. Scripts marked
 * `@disabled` are reported as skipped with their reason.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hasRedis, startMirra, startRedis, type ServerHandle } from '../helpers/servers.js';
import { formatDiffs, loadScripts, runScript, type Difference } from './harness.js';
import { scriptsDir } from './scripts-dir.js';

const scripts = loadScripts(scriptsDir());
const redisAvailable = hasRedis();
let redis: ServerHandle | undefined;
let mirra: ServerHandle | undefined;

before(async () => {
  if (!redisAvailable) return;
  [redis, mirra] = await Promise.all([startRedis(), startMirra()]);
});

after(async () => {
  await Promise.all([redis?.stop(), mirra?.stop()]);
});

for (const script of scripts) {
  const skip = !redisAvailable ? 'redis-server is not installed' : script.disabled;
  test(`differential: ${script.name}`, { skip }, async () => {
    const diffs: Difference[] = [];
    for (const proto of script.passes) diffs.push(...(await runScript(script, redis!, mirra!, proto)));
    assert.equal(diffs.length, 0, `${diffs.length} replies differ from redis-server:\n${formatDiffs(diffs)}`);
  });
}
