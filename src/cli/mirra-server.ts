#!/usr/bin/env -S node --max-semi-space-size=2
/**
 * `mirra-server [config-file] [--directive value ...]`: the redis-server command line.
 * The config file comes first, then command-line directives override it.
 */
import { runServerProcess } from './run.js';

runServerProcess(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`Fatal: ${(e as Error).message}\n`);
  process.exit(1);
});
