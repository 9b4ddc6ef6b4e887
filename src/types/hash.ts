/** The hash value type. (Structure and operations are filled in by the hash family.) */
export class HashValue {
  readonly type = 'hash' as const;
}
