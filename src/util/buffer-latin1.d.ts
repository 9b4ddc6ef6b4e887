// Node's Buffer has fast latin1 helpers that @types/node does not declare. They are used on the
// hot path (request parsing, reply writing) because they copy bytes without any decoding.
declare global {
  interface Buffer {
    latin1Slice(start?: number, end?: number): string;
    latin1Write(s: string, offset?: number, length?: number): number;
  }
}
export {};
