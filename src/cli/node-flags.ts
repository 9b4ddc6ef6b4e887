/**
 * The V8 options the server process runs with: `npm start`, the `mirra-server` bin (its
 * shebang line repeats them, since a shebang cannot import), the tests and the benchmarks.
 *
 * --max-semi-space-size=2 (MB; Node 20's default lets each young-generation semi-space grow to
 * 16 MB): loading a dataset keeps nearly everything it allocates, which makes V8 grow the young
 * generation to its maximum and keep it, ~32 MB of RSS that never holds data (about 300 bytes
 * per key for 100k small hashes). Measured with `npm run bench -- --compare <same build>
 * --mirra-node-flags …`: the same CPU per request at -P 1 and -P 16 (ratios 0.97) and a shorter
 * p99 (shorter scavenges), so the smaller young generation costs nothing. V8 reads this option
 * only at start-up, so it cannot be set from inside the process.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
