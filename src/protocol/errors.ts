/**
 * Error reply texts, exactly as Redis 7.0 sends them (without the leading '-' and CRLF).
 * Keeping them in one module lets tests and handlers refer to the same words.
 */
export const Err = {
  syntax: 'ERR syntax error',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  overflow: 'ERR increment or decrement would overflow',
  hashNotInteger: 'ERR hash value is not an integer',
  hashNotFloat: 'ERR hash value is not a float',
  wrongType: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  noSuchKey: 'ERR no such key',
  indexOutOfRange: 'ERR index out of range',
  dbIndexOutOfRange: 'ERR DB index is out of range',
  noAuth: 'NOAUTH Authentication required.',
  wrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  noPasswordConfigured:
    'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
  readonly: "READONLY You can't write against a read only replica.",
  loading: 'LOADING Redis is loading the dataset in memory',
  masterDown: "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
  noReplicas: 'NOREPLICAS Not enough good replicas to write.',
  oom: "OOM command not allowed when used memory > 'maxmemory'.",
  busyKey: 'BUSYKEY Target key name already exists.',
  execAbort: 'EXECABORT Transaction discarded because of previous errors.',
  nestedMulti: 'ERR MULTI calls can not be nested',
  execWithoutMulti: 'ERR EXEC without MULTI',
  discardWithoutMulti: 'ERR DISCARD without MULTI',
  watchInsideMulti: 'ERR WATCH inside MULTI is not allowed',
  notAllowedInMulti: 'ERR Command not allowed inside a transaction',
  noProto: 'NOPROTO unsupported protocol version',
  misconf:
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.",
  debugDisabled:
    'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.',
  maxClients: 'ERR max number of clients reached',
  invalidExpire: (cmd: string) => `ERR invalid expire time in '${cmd}' command`,
  wrongArity: (cmd: string) => `ERR wrong number of arguments for '${cmd}' command`,
  unknownSubcommand: (sub: string, container: string) =>
    `ERR unknown subcommand '${truncate(sub, 128)}'. Try ${container.toUpperCase()} HELP.`,
  outOfRange: (what: string) => `ERR ${what} is out of range`,
} as const;

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n) : s;
}

/** `ERR unknown command 'foo', with args beginning with: 'a' 'b' ` (note the trailing space). */
export function unknownCommandError(argv: readonly string[]): string {
  let args = '';
  for (let i = 1; i < argv.length && args.length < 128; i++) {
    const a = argv[i]!;
    const room = 128 - args.length;
    args += `'${a.length > room ? a.slice(0, room) : a}' `;
  }
  return `ERR unknown command '${truncate(argv[0] ?? '', 128)}', with args beginning with: ${args}`;
}

/** Protocol errors close the connection after the reply is flushed. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}
