/**
 * Mirra represents every binary-safe value (keys, string values, members, arguments) as a
 * "byte string": a JS string whose char codes are the bytes 0..255 (latin1). V8 stores such
 * strings one byte per char, they are cheap Map keys, and `Buffer.from(s, 'latin1')` /
 * `buf.latin1Slice()` convert without decoding work. Text meant for humans (logs, INFO) is
 * ASCII, which is the same in both views.
 */
export type Bytes = string;

export function toBuffer(s: Bytes): Buffer {
  return Buffer.from(s, 'latin1');
}

export function fromBuffer(b: Buffer, start = 0, end = b.length): Bytes {
  return b.latin1Slice(start, end);
}

/** Convert UTF-8 text (e.g. from a config file or a JS caller) to a byte string. */
export function fromUtf8(s: string): Bytes {
  return Buffer.from(s, 'utf8').latin1Slice(0);
}

/** Interpret a byte string as UTF-8 text (for logs and error messages). */
export function toUtf8(s: Bytes): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}

/** Byte-wise comparison, as memcmp then length (Redis sdscmp / lexicographic ranges). */
export function compareBytes(a: Bytes, b: Bytes): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
