/**
 * Runs differential scripts and prints every difference (exit code 1 if any).
 *
 *   node dist/test/differential/cli.js                 # every enabled script
 *   node dist/test/differential/cli.js strings keys    # scripts whose name contains a word
 *   node dist/test/differential/cli.js --all           # include @disabled scripts
 */
import { startMirra, startRedis } from '../helpers/servers.js';
import { formatDiffs, loadScripts, runScript, type Difference } from './harness.js';
import { scriptsDir } from './scripts-dir.js';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const all = args.includes('--all');
  const words = args.filter((a) => !a.startsWith('--'));
  const scripts = loadScripts(scriptsDir()).filter((s) => words.length === 0 || words.some((w) => s.name.includes(w)));
  const [redis, mirra] = await Promise.all([startRedis(), startMirra()]);
  let total = 0;
  try {
    for (const s of scripts) {
      if (s.disabled !== undefined && !all) {
        console.log(`- ${s.name}: skipped (${s.disabled})`);
        continue;
      }
      const diffs: Difference[] = [];
      for (const proto of s.passes) diffs.push(...(await runScript(s, redis, mirra, proto)));
      total += diffs.length;
      console.log(`${diffs.length === 0 ? '✓' : '✗'} ${s.name}: ${s.steps.length} steps, ${diffs.length} differences`);
      if (diffs.length > 0) console.log(formatDiffs(diffs));
    }
  } finally {
    await Promise.all([redis.stop(), mirra.stop()]);
  }
  return total === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
