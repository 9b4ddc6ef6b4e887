/**
 * A short, fixed-seed run of the chaos runner (scripts/chaos.ts): faults on a replicated
 * topology with WAIT-acknowledged writes, digest convergence, crash and RSS checks after every
 * cycle. The runner exits 0 only when no invariant was violated.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/scripts/chaos.js, found from dist/test/replication. */
const CHAOS = path.resolve(here, '../../scripts/chaos.js');

test('chaos runner, seed 1, 6 cycles: no invariant violated', { timeout: 120000 }, async () => {
  const child = spawn(process.execPath, [CHAOS, '--seed', '1', '--cycles', '6', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // If the test itself times out, the runner is told to stop (it kills its servers on exit).
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = out.split('\n').find((l) => l.startsWith('CHAOS '));
  assert.ok(line, `no CHAOS summary line; stdout:\n${out}\nstderr:\n${err}`);
  const summary = JSON.parse(line.slice(6)) as { cycles: number; lostWrites: number; crashes: number; violations: number; ackedChecked: number };
  assert.equal(code, 0, `chaos exited ${code}: ${line}\n${err}`);
  assert.equal(summary.cycles, 6);
  assert.equal(summary.violations, 0);
  assert.equal(summary.lostWrites, 0);
  assert.equal(summary.crashes, 0);
  assert.ok(summary.ackedChecked > 0, 'some acknowledged writes were checked');
});
