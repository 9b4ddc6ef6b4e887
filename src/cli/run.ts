/**
 * Process-level startup, as redis-server's main(): parse the command line and config,
 * daemonize, open the log, listen, write the pidfile, load the dataset, then log "Ready to
 * accept connections". SIGTERM/SIGINT trigger a graceful shutdown; SIGHUP is ignored.
 *
 * A start that cannot succeed ends with one clear message and exit status 1, never a stack
 * trace: config errors print Redis's FATAL CONFIG FILE ERROR block on stderr; runtime failures
 * (port in use, unreadable dataset) are logged where the log goes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Config, fsPath } from '../config/config.js';
import {
  applyLines,
  assembleConfig,
  commandLineOptions,
  readConfigText,
  ConfigFileOpenError,
  FatalConfigError,
} from '../config/parse.js';
import { Server, REDIS_VERSION, MIRRA_VERSION } from '../server/server.js';
import { ListenError } from '../net/listener.js';
import { formatLogLine, osErrorText } from '../server/logger.js';

/** Set in the environment of the re-executed daemon child. */
const DAEMON_ENV = 'MIRRA_DAEMON_CHILD';
/** Config text the parent read from stdin, handed to the daemon child. */
const STDIN_ENV = 'MIRRA_DAEMON_STDIN';
/** Redis's CONFIG_DEFAULT_PID_FILE, used when daemonized without a pidfile. */
const DEFAULT_PIDFILE = '/var/run/redis.pid';

function usage(): string {
  return [
    'Usage: ./mirra-server [/path/to/redis.conf] [options] [-]',
    '       ./mirra-server - (read config from stdin)',
    '       ./mirra-server -v or --version',
    '       ./mirra-server -h or --help',
    '',
    'Examples:',
    '       ./mirra-server (run the server with default conf)',
    "       echo 'maxmemory 128mb' | ./mirra-server -",
    '       ./mirra-server /etc/redis/6379.conf',
    '       ./mirra-server --port 7777',
    '       ./mirra-server --port 7777 --replicaof 127.0.0.1 8888',
    '       ./mirra-server /etc/myredis.conf --loglevel verbose -',
    '       ./mirra-server /etc/myredis.conf --loglevel verbose',
    '',
  ].join('\n');
}

export interface LoadedConfig {
  config: Config;
  warnings: string[];
  /** True when part of the config came from stdin. */
  fromStdin: boolean;
  /** What stdin gave, so a daemon child can apply the same config. */
  stdinText: string;
}

/**
 * Builds the configuration from the command line like redis-server: an optional config file
 * first (any first argument not starting with '-'), then stdin if `-` is given, then the
 * `--name value` options. `dir` is applied (chdir) as it is read.
 * Throws FatalConfigError or ConfigFileOpenError.
 */
export function loadConfig(args: string[], stdinText?: string): LoadedConfig {
  const config = new Config();
  let first = 0;
  let fileText = '';
  if (args[0] !== undefined && !args[0].startsWith('-')) {
    const file = path.resolve(args[0]);
    config.configFile = file;
    fileText = readConfigText(Buffer.from(file, 'utf8').toString('latin1'));
    first = 1;
  }
  const { options, stdin } = commandLineOptions(args, first);
  let fromStdin = '';
  if (stdin) {
    // Redis logs this before reading, so it goes to stdout whatever `logfile` will say.
    if (stdinText === undefined) process.stdout.write(formatLogLine('C', 'warning', 'Reading config from stdin'));
    fromStdin = stdinText ?? fs.readFileSync(0, 'latin1');
  }
  const parts = [{ text: fileText, origin: config.configFile }];
  if (stdin) parts.push({ text: fromStdin, origin: '(stdin)' });
  if (options !== '') parts.push({ text: '\n' + options, origin: '(command line)' });
  const warnings = applyLines(config, assembleConfig(parts), { chdir: true });
  return { config, warnings, fromStdin: stdin, stdinText: fromStdin };
}

export async function runServerProcess(args: string[]): Promise<void> {
  if (args[0] === '-v' || args[0] === '--version') {
    process.stdout.write(`Redis server v=${REDIS_VERSION} sha=00000000:0 malloc=libc bits=64 build=mirra-${MIRRA_VERSION}\n`);
    return;
  }
  if (args[0] === '-h' || args[0] === '--help') {
    process.stderr.write(usage());
    process.exit(1);
  }
  const daemonChild = process.env[DAEMON_ENV] === '1';
  const initialCwd = process.cwd();
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(args, daemonChild ? process.env[STDIN_ENV] : undefined);
    // Like Redis, make sure the log file can be opened before going any further.
    const logfile = loaded.config.str('logfile');
    if (logfile !== '') {
      try {
        fs.closeSync(fs.openSync(fsPath(logfile), 'a'));
      } catch (e) {
        throw new FatalConfigError(`Can't open the log file: ${osErrorText(e as NodeJS.ErrnoException)}`, 0, '', '');
      }
    }
  } catch (e) {
    if (e instanceof FatalConfigError) {
      process.stderr.write(Buffer.from(e.render(REDIS_VERSION), 'latin1'));
      return exitEarly(1, daemonChild, `config error: ${e.reason}`);
    }
    if (e instanceof ConfigFileOpenError) {
      process.stdout.write(Buffer.from(formatLogLine('C', 'warning', e.message), 'latin1'));
      return exitEarly(1, daemonChild, e.message);
    }
    throw e;
  }
  const { config } = loaded;
  if (config.bool('daemonize') && !daemonChild) {
    await daemonize(args, initialCwd, loaded);
    return;
  }
  await startInProcess(config, loaded);
}

/** Exit status 1 during startup; a daemon child also tells its waiting parent why. */
function exitEarly(code: number, daemonChild: boolean, why: string): never {
  if (daemonChild) tellParent(`fatal ${why}`);
  process.exit(code);
}

/** Writes one line on the daemon child's status pipe (fd 3), ignoring a parent that is gone. */
function tellParent(line: string): void {
  try {
    fs.writeSync(3, line.replace(/\n/g, ' ') + '\n');
  } catch {
    // The parent exited: nothing to tell.
  }
}

/**
 * Node cannot fork(), so daemon mode re-executes this program detached (its own session, stdio
 * on /dev/null) with a status pipe on fd 3. The parent waits until the child reports that it
 * serves (exit 0) or fails (its reason on stderr, exit 1).
 */
async function daemonize(args: string[], initialCwd: string, loaded: LoadedConfig): Promise<void> {
  const script = fileURLToPath(new URL('./mirra-server.js', import.meta.url));
  const childArgs = [...args];
  if (loaded.config.configFile) childArgs[0] = loaded.config.configFile;
  const env: NodeJS.ProcessEnv = { ...process.env, [DAEMON_ENV]: '1' };
  if (loaded.fromStdin) env[STDIN_ENV] = loaded.stdinText;
  const child = spawn(process.execPath, [...process.execArgv, script, ...childArgs], {
    cwd: initialCwd,
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env,
  });
  const pipe = child.stdio[3] as NodeJS.ReadableStream;
  const result = await new Promise<{ ok: boolean; why: string }>((resolve) => {
    let data = '';
    const settle = () => {
      const lines = data.split('\n');
      if (lines.includes('ready')) return resolve({ ok: true, why: '' });
      const fatal = lines.find((l) => l.startsWith('fatal '));
      resolve({ ok: false, why: fatal ? fatal.slice(6) : 'the server process exited during startup' });
    };
    pipe.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (data.split('\n').includes('ready')) settle();
    });
    pipe.on('error', () => {});
    pipe.on('end', settle);
    child.on('exit', settle);
  });
  child.unref();
  (pipe as unknown as { destroy?: () => void }).destroy?.();
  if (!result.ok) process.stderr.write(`Mirra could not start in the background: ${result.why}\n`);
  process.exit(result.ok ? 0 : 1);
}

async function startInProcess(config: Config, loaded: LoadedConfig): Promise<void> {
  const daemonChild = process.env[DAEMON_ENV] === '1';
  if (config.bool('daemonize') && config.str('pidfile') === '') config.set('pidfile', DEFAULT_PIDFILE);
  config.set('dir', Buffer.from(process.cwd(), 'utf8').toString('latin1'));
  const server = new Server(config);
  const log = server.logger;
  log.open(fsPath(config.str('logfile')));
  if (daemonChild && config.str('logfile') === '') log.useFd(fs.openSync('/dev/null', 'a'));
  installCrashLogging(server, daemonChild);
  process.on('SIGHUP', () => {});
  log.role = 'C';
  log.warning('oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo');
  log.warning(`Redis version=${REDIS_VERSION}, bits=64, commit=00000000, modified=0, pid=${process.pid}, just started`);
  log.warning(
    config.configFile || loaded.fromStdin
      ? 'Configuration loaded'
      : 'Warning: no config file specified, using the default config. In order to specify a config file use mirra-server /path/to/redis.conf',
  );
  for (const w of loaded.warnings) log.warning(w);
  warnUnsupportedProcessOptions(config, log);
  log.role = 'M';

  try {
    await server.start();
  } catch (e) {
    if (e instanceof ListenError) exitEarly(1, daemonChild, e.message);
    throw e;
  }
  const port = server.listeners.address?.port ?? config.int('port');
  log.notice(`Mirra ${MIRRA_VERSION} (Redis ${REDIS_VERSION} compatible) 64 bit, standalone mode, port ${port}, PID: ${process.pid}`);
  log.notice(`Running mode=standalone, port=${port}.`);
  const pidfile = config.str('pidfile');
  let pidWritten = false;
  if (pidfile) {
    try {
      fs.writeFileSync(fsPath(pidfile), `${process.pid}\n`);
      pidWritten = true;
    } catch (e) {
      log.warning(`Failed to write PID file: ${osErrorText(e as NodeJS.ErrnoException)}`);
    }
  }
  log.warning('Server initialized');
  process.on('SIGTERM', () => onSignal(server, 'SIGTERM'));
  process.on('SIGINT', () => onSignal(server, 'SIGINT'));
  try {
    await server.persistence.loadAtStartup();
  } catch (e) {
    // Redis exits here too; the reason was logged by the loader.
    if (pidWritten) fs.rmSync(fsPath(pidfile), { force: true });
    exitEarly(1, daemonChild, `Fatal error loading the DB: ${(e as Error).message}`);
  }
  log.notice('Ready to accept connections');
  if (daemonChild) {
    tellParent('ready');
    try {
      fs.closeSync(3);
    } catch {
      // Already closed.
    }
  }
  server.repl.startFromConfig();
}

/**
 * Process options Mirra stores but cannot honour in Node: say so once at startup rather than
 * let the operator believe they work.
 */
function warnUnsupportedProcessOptions(config: Config, log: Server['logger']): void {
  const supervised = config.str('supervised');
  if (supervised === 'systemd' || (supervised === 'auto' && process.env.NOTIFY_SOCKET)) {
    log.warning(
      'supervised systemd requested, but Mirra cannot send systemd readiness notifications (sd_notify): run it under a Type=simple unit, or Type=forking with daemonize yes and a pidfile',
    );
  }
  if (config.bool('syslog-enabled')) log.warning('syslog-enabled yes is not supported by Mirra: logging goes to the logfile (or stdout) only');
}

/**
 * An unexpected exception ends the process like a Redis crash, but first writes the report
 * where the log goes (a daemon has no terminal to print a stack trace on).
 */
function installCrashLogging(server: Server, daemonChild: boolean): void {
  process.on('uncaughtException', (e) => {
    server.logger.warning(`=== MIRRA BUG REPORT START: Cut & paste starting from here ===`);
    server.logger.warning(`Mirra crashed by an unexpected exception: ${(e as Error).stack ?? String(e)}`);
    server.logger.warning(`=== MIRRA BUG REPORT END ===`);
    if (daemonChild) tellParent(`fatal crashed: ${(e as Error).message}`);
    process.exit(1);
  });
}

/** The flags of shutdown-on-sigterm / shutdown-on-sigint, as SHUTDOWN options. */
function signalShutdownOptions(server: Server, sig: string): { mode: 'default' | 'save' | 'nosave'; now: boolean; force: boolean } {
  const flags = server.config.str(sig === 'SIGINT' ? 'shutdown-on-sigint' : 'shutdown-on-sigterm').split(' ');
  return {
    mode: flags.includes('save') ? 'save' : flags.includes('nosave') ? 'nosave' : 'default',
    now: flags.includes('now'),
    force: flags.includes('force'),
  };
}

function onSignal(server: Server, sig: string): void {
  const log = server.logger;
  if (server.shuttingDown) {
    if (sig === 'SIGINT') {
      log.warning('You insist... exiting now.');
      process.exit(1);
    }
    return;
  }
  // Redis logs this line from its signal handler, in this special format.
  log.raw(`${process.pid}:signal-handler (${Math.floor(Date.now() / 1000)}) Received ${sig} scheduling shutdown...\n`);
  void server.shutdown(signalShutdownOptions(server, sig)).then((ok) => {
    if (!ok) log.warning(`${sig} received but errors trying to shut down the server, check the logs for more information`);
  });
}
