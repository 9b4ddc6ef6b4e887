// Copies non-TypeScript assets (command metadata) next to the compiled modules, and makes the
// `mirra-server` bin executable (tsc writes plain files; `npx mirra-server` runs it directly,
// and its shebang passes the server's V8 option, see src/cli/node-flags.ts).
import fs from 'node:fs';
fs.mkdirSync('dist/src/commands/meta', { recursive: true });
fs.copyFileSync('src/commands/meta/redis-7.0.json', 'dist/src/commands/meta/redis-7.0.json');
fs.chmodSync('dist/src/cli/mirra-server.js', 0o755);
