/** The stream value type. (Structure and operations are filled in by the stream family.) */
export class StreamValue {
  readonly type = 'stream' as const;
}
