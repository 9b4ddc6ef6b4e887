/**
 * Loading the AOF at startup (Redis 7.0 loadAppendOnlyFiles / loadSingleAppendOnlyFile):
 * the base file, then every incr file in manifest order, into the live keyspace.
 *
 *  - A file starting with "REDIS" (an RDB base, or a pre-7.0 AOF with an RDB preamble) is
 *    first loaded with the RDB loader — keys already expired are kept, as with Redis's
 *    RDBFLAGS_AOF_PREAMBLE — then any RESP commands after the RDB part are replayed.
 *  - Commands are replayed through the command handlers with a socket-less client whose
 *    replies are discarded (Redis's fake AOF client): MULTI queues, EXEC runs the queue.
 *    Propagation is suspended (nothing goes back into the AOF or to replicas) and no key
 *    expires while replaying (Keyspace.loading), as Redis does while `server.loading`.
 *  - Work is done in slices of a few ms; the server answers -LOADING meanwhile
 *    (persistence.loading is set by the caller).
 *  - End of data inside a command, or inside MULTI (a transaction without EXEC), is a
 *    truncation: with aof-load-truncated yes the file is cut after the last complete command
 *    (before the MULTI) and loading goes on — accepted only for the last file. Anything else
 *    (bad syntax, unknown command, a broken RDB part) is fatal, with Redis's messages.
 *
 * Deviations kept on purpose: Redis runs whatever command the file holds without checking
 * arity; Mirra refuses commands with the wrong number of arguments and commands that can
 * never be in an AOF (neither writes nor replicated, e.g. SHUTDOWN, CONFIG, DEBUG), so a
 * damaged or hand-edited file cannot make the loader run administrative commands.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from '../../server/server.js';
import type { LoadProgress } from '../rdb/index.js';
import { RdbLoader, RdbError } from '../rdb/index.js';
import { Client } from '../../net/client.js';
import { commandTable } from '../../commands/table.js';
import { osErrorText } from './errors.js';
import { AofRespParser, ITEM_COMMAND, ITEM_ANNOTATION, MORE, BAD } from './resp-reader.js';
import type { AofManifest } from './manifest.js';

export type AofLoadStatus = 'ok' | 'not-exist' | 'empty' | 'open-err' | 'failed' | 'truncated';

/** Client id of the replay client (Redis's CLIENT_ID_AOF is UINT64_MAX; never listed). */
const AOF_CLIENT_ID = Number.MAX_SAFE_INTEGER;
const READ_CHUNK = 256 * 1024;
const SLICE_MS = 4;
/** Commands replayed between two clock checks. */
const CHECK_EVERY = 64;

/**
 * Commands that may appear in an AOF although not flagged `write`: transaction and database
 * control, and the may-replicate ones (COMMAND INFO does not expose that flag).
 */
const AOF_CONTROL = new Set(['select', 'multi', 'exec', 'discard', 'ping', 'publish', 'spublish', 'eval', 'evalsha', 'fcall', 'script', 'function']);

export interface AofLoadEnv {
  server: Server;
  /** The AOF directory (dir/appenddirname). */
  dir: string;
  /** appendfilename: a file of that name is a pre-7.0 AOF (only changes log lines). */
  appendfilename: string;
  loadTruncated: boolean;
  progress: LoadProgress | null;
  /** Set to the main reason when loading fails (the caller's error message). */
  error: string;
}

/** Logs a fatal loading error and remembers it as the reason. */
function fatal(env: AofLoadEnv, msg: string): void {
  env.server.logger.warning(msg);
  env.error = msg;
}

export interface AofLoadResult {
  status: AofLoadStatus;
  /** Bytes of the base and incr files (aof_current_size). */
  totalSize: number;
  /** Bytes of the base file (aof_base_size after a restart). */
  baseSize: number;
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Loads every file of the manifest. Logs Redis's lines; the caller exits on 'failed' /
 * 'open-err'. 'not-exist' means the manifest lists no file; 'empty' that they are all empty.
 */
export async function loadAofFiles(env: AofLoadEnv, am: AofManifest): Promise<AofLoadResult> {
  const log = env.server.logger;
  if (am.empty) return { status: 'not-exist', totalSize: 0, baseSize: 0 };
  const files = [...(am.base !== null ? [am.base] : []), ...am.incr];
  let total = 0;
  for (const f of files) {
    try {
      total += fs.statSync(path.join(env.dir, f.name)).size;
    } catch (e) {
      // A file listed in the manifest but missing on disk is fatal (getBaseAndIncrAppendOnlyFilesSize).
      fatal(env, `Unable to obtain the AOF file ${f.name} length. stat: ${osErrorText(e as NodeJS.ErrnoException)}`);
      return { status: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'failed' : 'open-err', totalSize: 0, baseSize: 0 };
    }
  }
  if (total === 0) return { status: 'empty', totalSize: 0, baseSize: 0 };
  if (env.progress !== null) env.progress.totalBytes = total;
  let baseSize = 0;
  let status: AofLoadStatus = 'ok';
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    const isBase = f === am.base;
    const last = i === files.length - 1;
    if (isBase) baseSize = fs.statSync(path.join(env.dir, f.name)).size;
    const t0 = performance.now();
    status = await loadSingleAofFile(env, f.name);
    if (status === 'ok' || (status === 'truncated' && last)) {
      log.notice(`DB loaded from ${isBase ? 'base' : 'incr'} file ${f.name}: ${((performance.now() - t0) / 1000).toFixed(3)} seconds`);
    }
    // An empty incr file does not make the whole AOF empty (some file had data).
    if (status === 'empty' && !isBase) status = 'ok';
    if (status === 'truncated' && !last) {
      status = 'failed';
      fatal(env, 'Fatal error: the truncated file is not the last file');
    }
    if (status === 'open-err' || status === 'failed' || status === 'not-exist') {
      return { status: status === 'not-exist' ? 'failed' : status, totalSize: 0, baseSize: 0 };
    }
  }
  return { status, totalSize: total, baseSize };
}

/** loadSingleAppendOnlyFile. */
export async function loadSingleAofFile(env: AofLoadEnv, name: string): Promise<AofLoadStatus> {
  const file = path.join(env.dir, name);
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') {
      fatal(env, `The append log file ${name} doesn't exist: ${osErrorText(err)}`);
      return 'not-exist';
    }
    fatal(env, `Fatal error: can't open the append log file ${name} for reading: ${osErrorText(err)}`);
    return 'open-err';
  }
  const replay = new Replayer(env.server, name);
  try {
    const size = (await fh.stat()).size;
    if (size === 0) return 'empty';
    const input = new FileInput(fh, size);
    await input.fill(5);
    if (input.available >= 5 && input.buf.toString('latin1', 0, 5) === 'REDIS') {
      const ok = await loadRdbPart(env, name, input);
      if (!ok) return 'failed';
    }
    const r = await replayCommands(env, name, input, replay);
    if (r === 'ok' || r === 'failed') return r;
    return await handleTruncation(env, name, file, r.validUpTo);
  } catch (e) {
    fatal(env, `Unrecoverable error reading the append only file ${name}: ${(e as Error).message}`);
    return 'failed';
  } finally {
    replay.close();
    await fh.close();
  }
}

/**
 * The RDB part of a file (RDB base, or the preamble of a pre-7.0 AOF). On success the input is
 * positioned right after the RDB checksum.
 */
async function loadRdbPart(env: AofLoadEnv, name: string, input: FileInput): Promise<boolean> {
  const server = env.server;
  const log = server.logger;
  const oldStyle = name === env.appendfilename;
  log.notice(oldStyle ? 'Reading RDB preamble from AOF file...' : 'Reading RDB base file on AOF loading...');
  const loader = new RdbLoader(server.keyspace.dbs, {
    // RDBFLAGS_AOF_PREAMBLE: keys already expired are loaded (they expire afterwards).
    isMaster: false,
    now: () => Date.now(),
    config: server.config,
    warn: (m) => log.warning(m),
  });
  try {
    let deadline = performance.now() + SLICE_MS;
    while (!loader.finished) {
      if (input.available === 0) {
        await input.fill(1);
        if (input.available === 0) {
          loader.end();
          break;
        }
      }
      const chunk = input.take(READ_CHUNK);
      loader.feed(chunk);
      let used = chunk.length;
      if (loader.finished) {
        // The RDB part starts at offset 0 and ends after its checksum: give back what follows
        // (the RESP tail of a preamble AOF).
        const extra = input.offset - loader.bytesParsed;
        input.unread(extra);
        used -= extra;
      }
      if (env.progress !== null) env.progress.loadedBytes += used;
      if (performance.now() >= deadline) {
        await turn();
        deadline = performance.now() + SLICE_MS;
      }
    }
  } catch (e) {
    const msg = e instanceof RdbError ? e.message : String(e);
    log.warning(msg);
    fatal(
      env,
      oldStyle
        ? `Error reading the RDB preamble of the AOF file ${name}, AOF loading aborted`
        : `Error reading the RDB base file ${name}, AOF loading aborted`,
    );
    return false;
  }
  const aux = loader.aux;
  const ver = aux.get('redis-ver');
  if (ver !== undefined) log.notice(`Loading RDB produced by version ${ver}`);
  const ctime = aux.get('ctime');
  if (ctime !== undefined) log.notice(`RDB age ${Math.max(0, Math.floor(Date.now() / 1000) - Number(ctime))} seconds`);
  const mem = aux.get('used-mem');
  if (mem !== undefined) log.notice(`RDB memory usage when created ${(Number(mem) / 1024 / 1024).toFixed(2)} Mb`);
  if (aux.get('aof-base') === '1') log.notice('RDB is base AOF');
  log.notice(`Done loading RDB, keys loaded: ${loader.keysLoaded}, keys expired: ${loader.keysExpired}.`);
  if (oldStyle) log.notice('Reading the remaining AOF tail...');
  return true;
}

/**
 * Replays the RESP commands from the input position to the end. Returns 'ok', 'failed', or the
 * truncation point (offset after the last complete command outside a transaction).
 */
async function replayCommands(
  env: AofLoadEnv,
  name: string,
  input: FileInput,
  replay: Replayer,
): Promise<'ok' | 'failed' | { validUpTo: number }> {
  const log = env.server.logger;
  const parser = new AofRespParser();
  let validUpTo = input.offset;
  let validBeforeMulti = -1;
  let n = 0;
  let deadline = performance.now() + SLICE_MS;
  for (;;) {
    const r = parser.parse(input.buf, input.pos);
    if (r === MORE) {
      const got = await input.fill(parser.need);
      if (!got) break; // end of file
      continue;
    }
    if (r === BAD) {
      fatal(
        env,
        `Bad file format reading the append only file ${name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>`,
      );
      return 'failed';
    }
    const start = input.offset;
    const consumed = parser.end - input.pos;
    input.pos = parser.end;
    if (env.progress !== null) env.progress.loadedBytes += consumed;
    if (r === ITEM_ANNOTATION) {
      if (!replay.inMulti) validUpTo = input.offset;
      continue;
    }
    if (r !== ITEM_COMMAND) continue;
    const argv = parser.argv;
    const a0 = argv[0]!;
    if (a0.length === 5 && a0.toLowerCase() === 'multi' && !replay.inMulti) validBeforeMulti = start;
    const err = replay.run(argv);
    if (err !== null) {
      fatal(env, err);
      return 'failed';
    }
    if (!replay.inMulti) validUpTo = input.offset;
    if (++n % CHECK_EVERY === 0 && performance.now() >= deadline) {
      await turn();
      deadline = performance.now() + SLICE_MS;
    }
  }
  if (input.available === 0 && !replay.inMulti) return 'ok';
  if (input.available === 0 && replay.inMulti) {
    // A complete file that ends inside MULTI: the transaction never committed.
    log.warning(`Revert incomplete MULTI/EXEC transaction in AOF file ${name}`);
    return { validUpTo: validBeforeMulti >= 0 ? validBeforeMulti : validUpTo };
  }
  return { validUpTo: replay.inMulti && validBeforeMulti >= 0 ? validBeforeMulti : validUpTo };
}

async function handleTruncation(env: AofLoadEnv, name: string, file: string, validUpTo: number): Promise<AofLoadStatus> {
  const log = env.server.logger;
  if (env.loadTruncated) {
    log.warning(`!!! Warning: short read while loading the AOF file ${name}!!!`);
    log.warning(`!!! Truncating the AOF ${name} at offset ${validUpTo} !!!`);
    try {
      await fs.promises.truncate(file, validUpTo);
      log.warning(`AOF ${name} loaded anyway because aof-load-truncated is enabled`);
      return 'truncated';
    } catch (e) {
      log.warning(`Error truncating the AOF file ${name}: ${osErrorText(e as NodeJS.ErrnoException)}`);
    }
  }
  fatal(
    env,
    `Unexpected end of file reading the append only file ${name}. You can: ` +
      '1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. ' +
      "2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
  );
  return 'failed';
}

/**
 * Buffered sequential reading of a file: `buf[pos…]` holds the unparsed bytes, `offset` is the
 * file offset of `buf[pos]`.
 */
class FileInput {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  /** File offset of buf[0]. */
  private bufOff = 0;
  private eof = false;

  constructor(
    private readonly fh: fs.promises.FileHandle,
    private readonly size: number,
  ) {}

  get offset(): number {
    return this.bufOff + this.pos;
  }

  get available(): number {
    return this.buf.length - this.pos;
  }

  /**
   * Makes at least `need` bytes available from pos, reading more. Returns false when the file
   * ended before anything more could be read.
   */
  async fill(need: number): Promise<boolean> {
    if (this.available >= need) return true;
    if (this.eof) return false;
    const rest = this.buf.subarray(this.pos);
    // Never more than the file still holds: a corrupt length must not make us allocate it.
    const left = this.size - (this.bufOff + this.buf.length);
    const want = Math.min(Math.max(READ_CHUNK, need - rest.length), left);
    if (want <= 0) {
      this.eof = true;
      return false;
    }
    const chunk = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(chunk, got, want - got, this.bufOff + this.buf.length + got);
      if (bytesRead === 0) {
        this.eof = true;
        break;
      }
      got += bytesRead;
      if (got >= need - rest.length) break;
    }
    if (got === 0) return false;
    this.bufOff += this.pos;
    this.buf = rest.length === 0 ? chunk.subarray(0, got) : Buffer.concat([rest, chunk.subarray(0, got)]);
    this.pos = 0;
    return true;
  }

  /** Consumes up to n available bytes. */
  take(n: number): Buffer {
    const end = Math.min(this.buf.length, this.pos + n);
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  /** Gives back the last n consumed bytes. */
  unread(n: number): void {
    this.pos -= n;
  }
}

/**
 * The replay client (Redis's createAOFClient): a socket-less client whose replies are
 * discarded, running commands straight through their handlers with propagation suspended.
 */
export class Replayer {
  readonly client: Client;
  private closed = false;
  private readonly wasLoading: boolean;

  constructor(
    private readonly server: Server,
    private readonly file: string,
  ) {
    this.client = new Client(server, null, AOF_CLIENT_ID);
    this.client.authenticated = true;
    this.client.w.enabled = false;
    server.propagator.suspended++;
    this.wasLoading = server.keyspace.loading;
    server.keyspace.loading = true;
  }

  get inMulti(): boolean {
    return this.client.flags.multi;
  }

  /** Runs one command; returns a fatal error message, or null. */
  run(argv: string[]): string | null {
    const server = this.server;
    const top = commandTable().lookup(argv[0]!);
    const spec = top?.subcommands !== undefined && argv.length >= 2 ? top.subcommands.get(argv[1]!.toLowerCase()) : top;
    if (top === undefined || spec === undefined || spec.handler === undefined) {
      return `Unknown command '${argv.slice(0, top?.subcommands !== undefined ? 2 : 1).join(' ').slice(0, 128)}' reading the append only file ${this.file}`;
    }
    const arity = spec.arity;
    if ((arity > 0 && argv.length !== arity) || argv.length < -arity) {
      return `Wrong number of arguments for '${spec.fullName}' reading the append only file ${this.file}`;
    }
    if (!spec.isWrite && !AOF_CONTROL.has(top.name)) {
      return `Command '${spec.fullName}' can't be replayed from the append only file ${this.file}`;
    }
    const c = this.client;
    try {
      if (c.flags.multi && top.name !== 'exec') {
        server.tx.queue(c, spec, argv);
      } else {
        const prop = server.propagator;
        const frame = prop.begin();
        try {
          spec.handler(c, argv);
        } finally {
          prop.end(frame, c.db.id, argv, false);
        }
      }
    } catch (e) {
      return `Error replaying '${spec.fullName}' from the append only file ${this.file}: ${(e as Error).message}`;
    } finally {
      c.w.discard();
    }
    server.blocking.handleReadyKeys();
    return null;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.client.flags.multi) this.server.tx.discard(this.client);
    this.server.propagator.suspended--;
    this.server.keyspace.loading = this.wasLoading;
  }
}
