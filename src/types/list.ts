/** The list value type. (Structure and operations are filled in by the list family.) */
export class ListValue {
  readonly type = 'list' as const;
}
