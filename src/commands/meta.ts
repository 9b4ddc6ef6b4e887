/**
 * Access to Redis 7.0's command metadata and config defaults captured from the real server
 * (meta/redis-7.0.json). Values are typed RESP3 trees so COMMAND INFO/DOCS can be re-encoded
 * exactly in either protocol.
 */
import fs from 'node:fs';

export type RespTree =
  | { t: 'simple' | 'error' | 'bulk' | 'double'; v: string }
  | { t: 'int'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'null' }
  | { t: 'array' | 'set' | 'map' | 'push'; v: RespTree[] };

export interface CommandMeta {
  info: RespTree & { t: 'array' };
  docs: RespTree & { t: 'map' };
}

interface MetaFile {
  commands: Record<string, CommandMeta>;
  configDefaults: Record<string, string>;
}

let cached: MetaFile | undefined;

export function redisMeta(): MetaFile {
  if (!cached) {
    const url = new URL('./meta/redis-7.0.json', import.meta.url);
    cached = JSON.parse(fs.readFileSync(url, 'utf8')) as MetaFile;
  }
  return cached;
}
