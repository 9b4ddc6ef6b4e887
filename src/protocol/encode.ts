/**
 * Encodes a command as a RESP array of bulk strings, the only form used on the replication
 * stream and in AOF files. Arguments are latin1 byte strings.
 */
export function encodeCommand(argv: readonly string[]): Buffer {
  let size = 1 + digits(argv.length) + 2;
  for (let i = 0; i < argv.length; i++) {
    const n = argv[i]!.length;
    size += 1 + digits(n) + 2 + n + 2;
  }
  const buf = Buffer.allocUnsafe(size);
  let p = buf.latin1Write('*' + argv.length + '\r\n', 0);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    p += buf.latin1Write('$' + a.length + '\r\n', p);
    p += buf.latin1Write(a, p);
    buf[p++] = 13;
    buf[p++] = 10;
  }
  return buf;
}

function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}
