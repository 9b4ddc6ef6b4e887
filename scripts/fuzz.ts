/**
 * Long runs of the parser properties (test/props/parsers.ts): the RESP request parser, the
 * argument splitter and the config line parser.
 *
 *   npm run fuzz -- --iterations 100000 [--seed 42] [--only RESP]
 *
 * The unit tests run the same properties briefly; this runs them as long as asked, prints each
 * property's time, and exits 1 with fast-check's counterexample (and seed) on a failure.
 */
import { properties } from '../test/props/parsers.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

const iterations = Number(option('iterations') ?? 10000);
const seedText = option('seed');
const seed = seedText === undefined ? Date.now() & 0x7fffffff : Number(seedText);
const only = option('only');
if (!Number.isInteger(iterations) || iterations < 1 || !Number.isInteger(seed)) {
  console.error('usage: fuzz [--iterations N] [--seed S] [--only <name substring>]');
  process.exit(2);
}

console.log(`fuzz: ${iterations} iterations per property, seed ${seed}`);
let failed = 0;
for (const p of properties) {
  if (only && !p.name.includes(only)) continue;
  const t0 = Date.now();
  try {
    p.check(iterations, seed);
    console.log(`  ok    ${p.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.log(`  FAIL  ${p.name}\n${(e as Error).message}`);
  }
}
process.exit(failed ? 1 : 0);
