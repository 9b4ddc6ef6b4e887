/** The zset value type. (Structure and operations are filled in by the zset family.) */
export class ZSetValue {
  readonly type = 'zset' as const;
}
