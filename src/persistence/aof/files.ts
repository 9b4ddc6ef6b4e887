/**
 * AOF files on disk: reading and atomically replacing the manifest, writing a base file
 * synchronously, small stat helpers.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from '../../server/server.js';
import { fsyncDir } from '../rdb/files.js';
import { AofManifest, AofManifestError, manifestFileName, tempManifestFileName } from './manifest.js';
import { writeBaseSync } from './base-writer.js';
import { osErrorText } from './errors.js';

/**
 * aofLoadManifestFromDisk: the manifest in `dir`, or an empty one when the directory or the
 * manifest does not exist. An invalid manifest throws AofManifestError.
 */
export function readManifest(dir: string, appendfilename: string): AofManifest {
  if (!isDir(dir)) return new AofManifest();
  const name = manifestFileName(appendfilename);
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) return new AofManifest();
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch (e) {
    throw new AofManifestError(`Can't open the AOF manifest file ${name} for reading: ${osErrorText(e as NodeJS.ErrnoException)}`);
  }
  return AofManifest.parse(text);
}

/**
 * persistAofManifest: written to a temp file, fsynced, renamed over the manifest, directory
 * fsynced. A clean (unchanged) manifest is not rewritten. Throws the I/O error.
 */
export function persistManifest(dir: string, appendfilename: string, am: AofManifest): void {
  if (!am.dirty) return;
  const tmp = path.join(dir, tempManifestFileName(appendfilename));
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    const b = Buffer.from(am.toString(), 'latin1');
    let off = 0;
    while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(dir, manifestFileName(appendfilename)));
  fsyncDir(dir);
  am.dirty = false;
}

/**
 * rewriteAppendOnlyFile: a base of the current dataset written synchronously through
 * `temp-rewriteaof-<pid>.aof` (the base created on a first start with appendonly yes).
 */
export function writeBaseFileSync(server: Server, target: string, rdbFormat: boolean): void {
  const dir = path.dirname(target);
  const tmp = path.join(dir, `temp-rewriteaof-${process.pid}.aof`);
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    writeBaseSync(server, fd, rdbFormat);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, target);
  fsyncDir(dir);
  server.logger.notice('SYNC append only file rewrite performed');
}

export function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

export function fileSize(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}
