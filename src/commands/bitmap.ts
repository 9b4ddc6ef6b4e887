/**
 * The bitmap command family (Redis bitops.c): SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD
 * BITFIELD_RO. Bitmaps are ordinary string values; the bit helpers are in types/bitops.ts.
 *
 * Redis 7.0 details reproduced here:
 *  - Arguments are validated in Redis's order, which is not always "syntax first": BITCOUNT and
 *    BITPOS answer 0 / -1 for a missing key before looking at their range arguments, and
 *    BITCOUNT returns 0 for two negative reversed indexes before checking BIT|BYTE.
 *  - A write (SETBIT, BITFIELD with SET/INCRBY) first creates the key or grows the string with
 *    zero bytes up to the highest bit it addresses (lookupStringForBitCommand). Creating or
 *    growing makes every write that then succeeds a change, even one that stores the bits
 *    already there; a BITFIELD whose writes all fail (OVERFLOW FAIL) leaves the created or
 *    grown key behind without counting a change. Only commands that changed something are
 *    propagated (as sent) and send `setbit`; a BITFIELD of GETs only is a pure read.
 *  - A string taken for writing is left `raw` (dbUnshareStringValue), so is BITOP's result.
 *  - Bit offsets must be below proto-max-bulk-len * 8 (except from the master). Mirra cannot
 *    hold strings longer than V8's limit (512 MB - 24 bytes), so a write beyond it is refused
 *    with the same out-of-range error.
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';
import { Err } from '../protocol/errors.js';
import { parseInteger } from '../util/numbers.js';
import { lookupKeyRead, writeString } from './keys-lookup.js';
import { setStringEncoding } from '../types/string-encoding.js';
import { BitmapCache, type BitmapMirror } from '../types/bitmap-cache.js';
import {
  BFOVERFLOW_FAIL,
  BFOVERFLOW_SAT,
  BFOVERFLOW_WRAP,
  BITFIELDOP_GET,
  BITFIELDOP_INCRBY,
  BITFIELDOP_SET,
  ByteOverlay,
  bitfieldExec,
  bitpos,
  popcount,
  popcountByte,
  type BitfieldOp,
} from '../types/bitops.js';

/** V8 cannot build strings longer than this (String::kMaxLength on 64-bit). */
const MAX_JS_STRING = 536870888;

const BIT_OFFSET_ERR = 'ERR bit offset is not an integer or out of range';
const BIT_VALUE_ERR = 'ERR bit is not an integer or out of range';
const BITFIELD_TYPE_ERR = 'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';

/** strcasecmp compares C strings: an argument ends at its first NUL byte. */
function cstr(s: string): string {
  const nul = s.indexOf('\0');
  return nul === -1 ? s : s.slice(0, nul);
}

/** Case-insensitive keyword test with C string semantics. */
function keyword(arg: string, lower: string): boolean {
  const s = cstr(arg);
  return s.length === lower.length && s.toLowerCase() === lower;
}

/** An int64 argument; beyond ±2^53 it is clamped (only its sign and size matter then). */
function clampInt(v: number | bigint): number {
  if (typeof v === 'number') return v;
  return v < 0n ? -Number.MAX_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
}

/**
 * getBitOffsetFromArgument: a bit offset, optionally `#N` (N fields of `bits` bits) for
 * BITFIELD. Null after replying.
 */
function bitOffsetArg(c: Client, arg: string, hash: boolean, bits: number): number | null {
  const usehash = hash && bits > 0 && arg.charCodeAt(0) === 35; /* # */
  const v = parseInteger(usehash ? arg.slice(1) : arg);
  if (v === null) {
    c.w.error(BIT_OFFSET_ERR);
    return null;
  }
  let off: number;
  if (usehash) {
    // The multiplication wraps around in int64, as in C.
    off = typeof v === 'number' && Math.abs(v * bits) <= Number.MAX_SAFE_INTEGER ? v * bits : Number(BigInt.asIntN(64, BigInt(v) * BigInt(bits)));
  } else {
    off = typeof v === 'number' ? v : Number(v);
  }
  if (off < 0 || (!c.flags.master && Math.floor(off / 8) >= c.server.config.int('proto-max-bulk-len'))) {
    c.w.error(BIT_OFFSET_ERR);
    return null;
  }
  return off;
}

/** A string looked up for writing, grown to hold bit `maxbit` (lookupStringForBitCommand). */
interface BitTarget {
  ov: ByteOverlay;
  created: boolean;
  /** Created or grown: any write that succeeds then counts as a change. */
  dirty: boolean;
  /** The write mirror of a large bitmap (see types/bitmap-cache.ts). */
  mirror: BitmapMirror | undefined;
}

function bitTargetOrReply(c: Client, key: string, maxbit: number): BitTarget | null {
  const o = writeString(c, key);
  if (o === null) return null;
  const byte = Math.floor(maxbit / 8);
  if (byte >= MAX_JS_STRING) {
    c.w.error(BIT_OFFSET_ERR);
    return null;
  }
  const base = o ?? '';
  const grown = base.length < byte + 1;
  const mirror = o === undefined ? undefined : BitmapCache.of(c.server.keyspace).acquire(c.db, key, o);
  return { ov: new ByteOverlay(base, grown ? byte + 1 : base.length, mirror), created: o === undefined, dirty: grown, mirror };
}

/**
 * Stores the result of a bit write: the (possibly grown) string, the change report when
 * `changes` > 0, and the raw encoding a write leaves behind in any case.
 */
function finishBitWrite(c: Client, key: string, t: BitTarget, changes: number): void {
  const db = c.db;
  const ov = t.ov;
  let value: string;
  if (t.mirror === undefined) value = ov.build();
  else value = ov.modified ? t.mirror.commit(ov.writes(), ov.length) : ov.base;
  if (t.created) db.add(key, value);
  else if (ov.modified) db.set(key, value, true);
  const ks = c.server.keyspace;
  if (changes > 0) ks.changed(db, key, '$', 'setbit', changes);
  // The change report dropped the mirror (as for any other write): it describes `value` now.
  if (t.mirror !== undefined) BitmapCache.of(ks).store(db, key, t.mirror);
  setStringEncoding(ks, db, key, value, 'raw');
}

/** A string value for reading (lookupKeyRead + checkType): undefined if missing, null after WRONGTYPE. */
function readStringValue(c: Client, key: string): string | undefined | null {
  const o = lookupKeyRead(c, key);
  if (o === undefined) return undefined;
  if (typeof o !== 'string') {
    c.w.error(Err.wrongType);
    return null;
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// SETBIT GETBIT

function setbitCommand(c: Client, argv: string[]): void {
  const offset = bitOffsetArg(c, argv[2]!, false, 0);
  if (offset === null) return;
  const on = parseInteger(argv[3]!);
  if (on !== 0 && on !== 1) {
    c.w.error(BIT_VALUE_ERR);
    return;
  }
  const key = argv[1]!;
  const t = bitTargetOrReply(c, key, offset);
  if (t === null) return;
  const byte = Math.floor(offset / 8);
  const shift = 7 - (offset % 8);
  const byteval = t.ov.get(byte);
  const bitval = (byteval >> shift) & 1;
  let changes = 0;
  if (t.dirty || bitval !== on) {
    t.ov.set(byte, (byteval & ~(1 << shift)) | (on << shift));
    changes = 1;
  }
  finishBitWrite(c, key, t, changes);
  c.w.int(bitval);
}

function getbitCommand(c: Client, argv: string[]): void {
  const offset = bitOffsetArg(c, argv[2]!, false, 0);
  if (offset === null) return;
  const v = readStringValue(c, argv[1]!);
  if (v === null) return;
  if (v === undefined) {
    c.w.int(0);
    return;
  }
  const byte = Math.floor(offset / 8);
  if (byte >= v.length) {
    c.w.int(0);
    return;
  }
  // A large bitmap being written is read from its mirror (reading the string would flatten it).
  const m = BitmapCache.of(c.server.keyspace).peek(c.db, argv[1]!, v);
  const b = m !== undefined ? m.get(byte) : v.charCodeAt(byte);
  c.w.int((b >> (7 - (offset % 8))) & 1);
}

// ---------------------------------------------------------------------------------------------
// BITCOUNT BITPOS

/** Parsed [start, end] range of BITCOUNT/BITPOS, clamped Redis's way. */
interface Range {
  start: number;
  end: number;
}

/**
 * Normalises a start/end pair against `totlen` units (bytes or bits): negative indexes count
 * from the end, then both are clamped into the string.
 */
function clampRange(start: number, end: number, totlen: number): Range {
  if (start < 0) start = totlen + start;
  if (end < 0) end = totlen + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= totlen) end = totlen - 1;
  return { start, end };
}

function bitcountCommand(c: Client, argv: string[]): void {
  const v = readStringValue(c, argv[1]!);
  if (v === null) return;
  if (v === undefined) {
    c.w.int(0);
    return;
  }
  const argc = argv.length;
  const len = v.length;
  let startBit: number;
  let endBit: number;
  if (argc === 4 || argc === 5) {
    const s = parseInteger(argv[2]!);
    if (s === null) {
      c.w.error(Err.notInteger);
      return;
    }
    const e = parseInteger(argv[3]!);
    if (e === null) {
      c.w.error(Err.notInteger);
      return;
    }
    if (s < 0 && e < 0 && s > e) {
      c.w.int(0);
      return;
    }
    const isbit = argc === 5 ? bitUnit(c, argv[4]!) : false;
    if (isbit === null) return;
    const r = clampRange(clampInt(s), clampInt(e), isbit ? len * 8 : len);
    if (r.start > r.end) {
      c.w.int(0);
      return;
    }
    startBit = isbit ? r.start : r.start * 8;
    endBit = isbit ? r.end : r.end * 8 + 7;
  } else if (argc === 2) {
    if (len === 0) {
      c.w.int(0);
      return;
    }
    startBit = 0;
    endBit = len * 8 - 1;
  } else {
    c.w.error(Err.syntax);
    return;
  }
  const first = Math.floor(startBit / 8);
  const last = Math.floor(endBit / 8);
  let count = popcount(v, first, last);
  // Bits of the edge bytes outside the range.
  const headMask = ~((1 << (8 - (startBit % 8))) - 1) & 0xff;
  const tailMask = (1 << (7 - (endBit % 8))) - 1;
  if (headMask !== 0) count -= popcountByte(v.charCodeAt(first) & headMask);
  if (tailMask !== 0) count -= popcountByte(v.charCodeAt(last) & tailMask);
  c.w.int(count);
}

/** The BIT | BYTE unit of BITCOUNT / BITPOS ranges: true for BIT, null after a syntax error reply. */
function bitUnit(c: Client, arg: string): boolean | null {
  if (keyword(arg, 'bit')) return true;
  if (keyword(arg, 'byte')) return false;
  c.w.error(Err.syntax);
  return null;
}

function bitposCommand(c: Client, argv: string[]): void {
  const b = parseInteger(argv[2]!);
  if (b === null) {
    c.w.error(Err.notInteger);
    return;
  }
  if (b !== 0 && b !== 1) {
    c.w.error('ERR The bit argument must be 1 or 0.');
    return;
  }
  const bit = b;
  const v = readStringValue(c, argv[1]!);
  if (v === null) return;
  if (v === undefined) {
    // A missing key is an endless run of zeros.
    c.w.int(bit ? -1 : 0);
    return;
  }
  const argc = argv.length;
  const len = v.length;
  let endGiven = false;
  let startBit: number;
  let endBit: number;
  if (argc === 4 || argc === 5 || argc === 6) {
    const s = parseInteger(argv[3]!);
    if (s === null) {
      c.w.error(Err.notInteger);
      return;
    }
    const isbit = argc === 6 ? bitUnit(c, argv[5]!) : false;
    if (isbit === null) return;
    let end: number;
    if (argc >= 5) {
      const e = parseInteger(argv[4]!);
      if (e === null) {
        c.w.error(Err.notInteger);
        return;
      }
      end = clampInt(e);
      endGiven = true;
    } else {
      end = isbit ? len * 8 + 7 : len - 1;
    }
    const r = clampRange(clampInt(s), end, isbit ? len * 8 : len);
    if (r.start > r.end) {
      c.w.int(-1);
      return;
    }
    startBit = isbit ? r.start : r.start * 8;
    endBit = isbit ? r.end : r.end * 8 + 7;
  } else if (argc === 3) {
    if (len === 0) {
      c.w.int(-1);
      return;
    }
    startBit = 0;
    endBit = len * 8 - 1;
  } else {
    c.w.error(Err.syntax);
    return;
  }
  const pos = bitpos(v, startBit, endBit, bit);
  if (pos !== -1 || bit === 1) {
    c.w.int(pos);
    return;
  }
  // No clear bit in range: without an explicit end the string counts as followed by zeros,
  // so the answer is the first bit after the range.
  c.w.int(endGiven ? -1 : endBit + 1);
}

// ---------------------------------------------------------------------------------------------
// BITOP

function bitopCommand(c: Client, argv: string[]): void {
  const opname = cstr(argv[1]!).toLowerCase();
  if (opname !== 'and' && opname !== 'or' && opname !== 'xor' && opname !== 'not') {
    c.w.error(Err.syntax);
    return;
  }
  if (opname === 'not' && argv.length !== 4) {
    c.w.error('ERR BITOP NOT must be called with a single source key.');
    return;
  }
  const target = argv[2]!;
  const numkeys = argv.length - 3;
  const sources: (string | undefined)[] = new Array<string | undefined>(numkeys);
  let maxlen = 0;
  for (let j = 0; j < numkeys; j++) {
    const o = lookupKeyRead(c, argv[j + 3]!);
    if (o !== undefined && typeof o !== 'string') {
      c.w.error(Err.wrongType);
      return;
    }
    sources[j] = o;
    if (o !== undefined && o.length > maxlen) maxlen = o.length;
  }
  const db = c.db;
  const ks = c.server.keyspace;
  if (maxlen === 0) {
    // An empty result deletes the destination.
    if (db.delete(target)) ks.changed(db, target, 'g', 'del');
    c.w.int(0);
    return;
  }
  // Missing keys and the bytes past a shorter string count as zero bytes.
  const res = Buffer.alloc(maxlen);
  const first = sources[0];
  if (first !== undefined) res.latin1Write(first, 0);
  if (opname === 'not') {
    for (let i = 0; i < maxlen; i++) res[i] = ~res[i]! & 0xff;
  } else {
    for (let j = 1; j < numkeys; j++) {
      const s = sources[j] ?? '';
      const n = s.length;
      if (opname === 'and') {
        for (let i = 0; i < n; i++) res[i] = res[i]! & s.charCodeAt(i);
        res.fill(0, n);
      } else if (opname === 'or') {
        for (let i = 0; i < n; i++) res[i] = res[i]! | s.charCodeAt(i);
      } else {
        for (let i = 0; i < n; i++) res[i] = res[i]! ^ s.charCodeAt(i);
      }
    }
  }
  const value = res.latin1Slice(0, maxlen);
  db.set(target, value);
  ks.changed(db, target, '$', 'set');
  // createObject(OBJ_STRING, ...): raw whatever the length.
  setStringEncoding(ks, db, target, value, 'raw');
  c.w.int(maxlen);
}

// ---------------------------------------------------------------------------------------------
// BITFIELD BITFIELD_RO

/** getBitfieldTypeFromArgument: `i1`..`i64` or `u1`..`u63`; null after replying. */
function bitfieldTypeArg(c: Client, arg: string): { signed: boolean; bits: number } | null {
  const t = arg.charCodeAt(0);
  const signed = t === 105; /* i */
  if (!signed && t !== 117 /* u */) {
    c.w.error(BITFIELD_TYPE_ERR);
    return null;
  }
  // string2ll over strlen(p+1): the width ends at a NUL byte.
  const n = parseInteger(cstr(arg.slice(1)));
  if (n === null || n < 1 || (signed && n > 64) || (!signed && n > 63)) {
    c.w.error(BITFIELD_TYPE_ERR);
    return null;
  }
  return { signed, bits: Number(n) };
}

function bitfieldGeneric(c: Client, argv: string[], readonlyCommand: boolean): void {
  const ops: BitfieldOp[] = [];
  let owtype = BFOVERFLOW_WRAP;
  let readonly = true;
  let highestWrite = 0;
  const argc = argv.length;
  for (let j = 2; j < argc; j++) {
    const remargs = argc - j - 1;
    const sub = argv[j]!;
    let opcode: number;
    if (keyword(sub, 'get') && remargs >= 2) opcode = BITFIELDOP_GET;
    else if (keyword(sub, 'set') && remargs >= 3) opcode = BITFIELDOP_SET;
    else if (keyword(sub, 'incrby') && remargs >= 3) opcode = BITFIELDOP_INCRBY;
    else if (keyword(sub, 'overflow') && remargs >= 1) {
      const name = argv[++j]!;
      if (keyword(name, 'wrap')) owtype = BFOVERFLOW_WRAP;
      else if (keyword(name, 'sat')) owtype = BFOVERFLOW_SAT;
      else if (keyword(name, 'fail')) owtype = BFOVERFLOW_FAIL;
      else {
        c.w.error('ERR Invalid OVERFLOW type specified');
        return;
      }
      continue;
    } else {
      c.w.error(Err.syntax);
      return;
    }
    const type = bitfieldTypeArg(c, argv[j + 1]!);
    if (type === null) return;
    const offset = bitOffsetArg(c, argv[j + 2]!, true, type.bits);
    if (offset === null) return;
    let value: number | bigint = 0;
    if (opcode !== BITFIELDOP_GET) {
      readonly = false;
      if (highestWrite < offset + type.bits - 1) highestWrite = offset + type.bits - 1;
      const v = parseInteger(argv[j + 3]!);
      if (v === null) {
        c.w.error(Err.notInteger);
        return;
      }
      value = v;
    }
    ops.push({ opcode, offset, bits: type.bits, signed: type.signed, value, owtype });
    j += opcode === BITFIELDOP_GET ? 2 : 3;
  }

  const key = argv[1]!;
  if (readonly) {
    // Only GETs: a read, never creates or grows the key.
    const v = readStringValue(c, key);
    if (v === null) return;
    const ov = v === undefined ? new ByteOverlay('') : new ByteOverlay(v, v.length, BitmapCache.of(c.server.keyspace).peek(c.db, key, v));
    c.w.array(ops.length);
    for (const op of ops) c.w.int(bitfieldExec(ov, op).reply!);
    return;
  }
  if (readonlyCommand) {
    c.w.error('ERR BITFIELD_RO only supports the GET subcommand');
    return;
  }
  const t = bitTargetOrReply(c, key, highestWrite);
  if (t === null) return;
  let changes = 0;
  c.w.array(ops.length);
  for (const op of ops) {
    const r = bitfieldExec(t.ov, op);
    if (r.reply === null) {
      c.w.nullBulk();
      continue;
    }
    c.w.int(r.reply);
    if (op.opcode !== BITFIELDOP_GET && (t.dirty || r.changed)) changes++;
  }
  finishBitWrite(c, key, t, changes);
}

function bitfieldCommand(c: Client, argv: string[]): void {
  bitfieldGeneric(c, argv, false);
}

function bitfieldRoCommand(c: Client, argv: string[]): void {
  bitfieldGeneric(c, argv, true);
}

// ---------------------------------------------------------------------------------------------

export const bitmapCommands: CommandDef[] = [
  { name: 'setbit', handler: setbitCommand },
  { name: 'getbit', handler: getbitCommand },
  { name: 'bitcount', handler: bitcountCommand },
  { name: 'bitpos', handler: bitposCommand },
  { name: 'bitop', handler: bitopCommand },
  { name: 'bitfield', handler: bitfieldCommand },
  { name: 'bitfield_ro', handler: bitfieldRoCommand },
];
