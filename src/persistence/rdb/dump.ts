/**
 * DUMP / RESTORE payloads (rdb.md §9): `<type> <value>` in RDB encoding, then the RDB version
 * as uint16 LE, then the CRC64 (LE) of everything before it — byte-compatible with Redis 7.0.
 */
import type { Config } from '../../config/config.js';
import type { Value } from '../../types/value.js';
import { RdbOut } from './out.js';
import { crc64 } from './crc64.js';
import { Cursor } from './cursor.js';
import { readValueGuarded } from './reader.js';
import { writeTypeAndValue } from './writer.js';
import { RdbError } from './errors.js';
import { RDB_VERSION } from './format.js';

export function createDumpPayload(v: Value, cfg: Config): Buffer {
  const out = new RdbOut(cfg.bool('rdbcompression'), 256);
  writeTypeAndValue(out, v, cfg);
  out.u8(RDB_VERSION & 0xff);
  out.u8(RDB_VERSION >> 8);
  const body = out.take();
  const crc = crc64(body);
  const res = Buffer.allocUnsafe(body.length + 8);
  body.copy(res, 0);
  res.writeBigUInt64LE(crc, body.length);
  return res;
}

/** Redis's verifyDumpPayload: footer version ≤ ours and a matching CRC64. */
export function verifyDumpPayload(p: Buffer): boolean {
  if (p.length < 10) return false;
  const version = p.readUInt16LE(p.length - 10);
  if (version > RDB_VERSION) return false;
  return crc64(p, 0, p.length - 8) === p.readBigUInt64LE(p.length - 8);
}

/**
 * Decodes the value of a verified payload. Throws RdbError when it does not parse ("Bad data
 * format") or is an empty collection.
 */
export function parseDumpPayload(p: Buffer, cfg: Config): Value {
  const cur = new Cursor(p, 0, p.length, true);
  const type = cur.u8();
  const v = readValueGuarded(cur, type, cfg);
  if (v === null) throw new RdbError('empty collection');
  return v;
}
