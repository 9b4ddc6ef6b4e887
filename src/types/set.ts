/** The set value type. (Structure and operations are filled in by the set family.) */
export class SetValue {
  readonly type = 'set' as const;
}
