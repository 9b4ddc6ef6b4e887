/**
 * A value stored under a key. Strings are latin1 byte strings (see util/bytes.ts); every other
 * type is an object whose `type` field names it, so `typeof v === 'string'` is the fast test for
 * the most common case.
 */
import type { ListValue } from './list.js';
import type { HashValue } from './hash.js';
import type { SetValue } from './set.js';
import type { ZSetValue } from './zset.js';
import type { StreamValue } from './stream.js';

export type Value = string | ListValue | HashValue | SetValue | ZSetValue | StreamValue;
export type TypeName = 'string' | 'list' | 'hash' | 'set' | 'zset' | 'stream';

export function typeOf(v: Value): TypeName {
  return typeof v === 'string' ? 'string' : v.type;
}
