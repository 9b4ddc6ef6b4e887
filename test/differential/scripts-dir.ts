/** Where the script files live: the source tree, found from either test/ or dist/test/. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export function scriptsDir(): string {
  for (const p of [path.join(here, 'scripts'), path.resolve(here, '../../../test/differential/scripts')]) {
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`differential scripts directory not found from ${here}`);
}
