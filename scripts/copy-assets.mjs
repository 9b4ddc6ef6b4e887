// Copies non-TypeScript assets (command metadata) next to the compiled modules.
import fs from 'node:fs';
fs.mkdirSync('dist/src/commands/meta', { recursive: true });
fs.copyFileSync('src/commands/meta/redis-7.0.json', 'dist/src/commands/meta/redis-7.0.json');
