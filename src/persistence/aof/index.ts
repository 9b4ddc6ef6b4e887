/**
 * The append only file (Redis 7.0 multi-part AOF). `Aof` is owned by the persistence facade
 * (`server.persistence.aof`); see aof.ts for the design.
 */
export { Aof, type AofState } from './aof.js';
export { AofManifest, AofManifestError, type AofInfo } from './manifest.js';
export { bgrewriteaofCommand } from './command.js';
