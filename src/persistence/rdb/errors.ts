/** The error every RDB/DUMP decoding failure is reported with (corrupt, truncated, unsupported). */
export class RdbError extends Error {
  override name = 'RdbError';
}
