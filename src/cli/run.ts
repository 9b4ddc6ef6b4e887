/**
 * Process-level startup: parse the command line and config, daemonize, write the pidfile,
 * log the banner, start listening, load the dataset, then log "Ready to accept connections".
 * Signals SIGTERM/SIGINT trigger a graceful shutdown.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Config } from '../config/config.js';
import { applyLines, argvToLines, readConfigFile, FatalConfigError, type Line } from '../config/parse.js';
import { Server, REDIS_VERSION, MIRRA_VERSION } from '../server/server.js';
import { ListenError } from '../net/listener.js';

const DAEMON_ENV = 'MIRRA_DAEMON_CHILD';

function usage(): string {
  return [
    'Usage: ./mirra-server [/path/to/redis.conf] [options] [-]',
    '       ./mirra-server - (read config from stdin)',
    '       ./mirra-server -v or --version',
    '       ./mirra-server -h or --help',
    '',
    'Examples:',
    '       ./mirra-server (run the server with default conf)',
    '       ./mirra-server /etc/redis/6379.conf',
    '       ./mirra-server --port 7777',
    '       ./mirra-server --port 7777 --replicaof 127.0.0.1 8888',
    '       ./mirra-server /etc/myredis.conf --loglevel verbose -',
    '       ./mirra-server /etc/myredis.conf --loglevel verbose',
    '',
  ].join('\n');
}

/** Builds the configuration from the command line (exits the process on a fatal error). */
export function loadConfig(args: string[]): { config: Config; warnings: string[] } {
  const config = new Config();
  let lines: Line[] = [];
  let rest = args;
  if (rest[0] !== undefined && !rest[0].startsWith('--') && rest[0] !== '-') {
    const file = path.resolve(rest[0]);
    config.configFile = file;
    lines = readConfigFile(file);
    rest = rest.slice(1);
  }
  let fromStdin = false;
  if (rest[rest.length - 1] === '-') {
    fromStdin = true;
    rest = rest.slice(0, -1);
  }
  if (fromStdin) {
    const text = fs.readFileSync(0, 'utf8');
    lines.push(...text.split('\n').map((t, i) => ({ text: t, number: i + 1, file: '(stdin)' })));
  }
  const warnings = applyLines(config, lines);
  warnings.push(...applyLines(config, argvToLines(rest)));
  return { config, warnings };
}

export async function runServerProcess(args: string[]): Promise<void> {
  if (args[0] === '-v' || args[0] === '--version') {
    process.stdout.write(`Redis server v=${REDIS_VERSION} sha=00000000:0 malloc=v8 bits=64 build=mirra-${MIRRA_VERSION}\n`);
    return;
  }
  if (args[0] === '-h' || args[0] === '--help') {
    process.stdout.write(usage());
    return;
  }
  let loaded: { config: Config; warnings: string[] };
  try {
    loaded = loadConfig(args);
  } catch (e) {
    if (e instanceof FatalConfigError) {
      process.stderr.write(e.render(REDIS_VERSION));
      process.exit(1);
    }
    throw e;
  }
  const { config, warnings } = loaded;
  if (config.bool('daemonize') && process.env[DAEMON_ENV] !== '1') {
    await daemonize(args);
    return;
  }
  await startInProcess(config, warnings);
}

/**
 * Node cannot fork(), so daemon mode re-executes this program detached, with a pipe on fd 3.
 * The parent exits 0 only once the child reports that it is serving, or 1 if it fails.
 */
async function daemonize(args: string[]): Promise<void> {
  const script = fileURLToPath(new URL('./mirra-server.js', import.meta.url));
  const child = spawn(process.execPath, [script, ...args], {
    detached: true,
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
    env: { ...process.env, [DAEMON_ENV]: '1' },
  });
  const pipe = child.stdio[3] as NodeJS.ReadableStream;
  const ok = await new Promise<boolean>((resolve) => {
    let data = '';
    pipe.on('data', (d: Buffer) => {
      data += d.toString();
      if (data.includes('ready')) resolve(true);
    });
    pipe.on('end', () => resolve(data.includes('ready')));
    child.on('exit', () => resolve(data.includes('ready')));
  });
  child.unref();
  (pipe as unknown as { destroy?: () => void }).destroy?.();
  process.exit(ok ? 0 : 1);
}

async function startInProcess(config: Config, warnings: string[]): Promise<void> {
  const server = new Server(config);
  const log = server.logger;
  const daemonChild = process.env[DAEMON_ENV] === '1';
  try {
    log.open(config.str('logfile'));
  } catch (e) {
    process.stderr.write(`Can't open the log file: ${(e as Error).message}\n`);
    process.exit(1);
  }
  if (daemonChild && config.str('logfile') === '') log.useFd(fs.openSync('/dev/null', 'a'));
  log.role = 'C';
  log.warning('oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo');
  log.warning(`Redis version=${REDIS_VERSION}, bits=64, commit=00000000, modified=0, pid=${process.pid}, just started`);
  log.warning(config.configFile ? 'Configuration loaded' : 'Warning: no config file specified, using the default config. In order to specify a config file use mirra-server /path/to/redis.conf');
  for (const w of warnings) log.warning(w);
  const dir = config.str('dir');
  if (dir) {
    try {
      process.chdir(dir);
    } catch (e) {
      log.warning(`Can't chdir to '${dir}': ${(e as Error).message}`);
      process.exit(1);
    }
  }
  config.set('dir', process.cwd());
  log.role = 'M';
  try {
    await server.start();
  } catch (e) {
    if (e instanceof ListenError) process.exit(1);
    throw e;
  }
  const port = server.listeners.address?.port ?? config.int('port');
  log.notice(`Mirra ${MIRRA_VERSION} (Redis ${REDIS_VERSION} compatible) 64 bit, standalone mode, port ${port}, PID: ${process.pid}`);
  log.notice(`Running mode=standalone, port=${port}.`);
  const pidfile = config.str('pidfile');
  if (pidfile || daemonChild) {
    const file = pidfile || '/var/run/redis.pid';
    try {
      fs.writeFileSync(file, `${process.pid}\n`);
    } catch (e) {
      log.warning(`Failed to write PID file: ${(e as Error).message}`);
    }
  }
  log.warning('Server initialized');
  process.on('SIGTERM', () => onSignal(server, 'SIGTERM'));
  process.on('SIGINT', () => onSignal(server, 'SIGINT'));
  if (daemonChild) {
    try {
      fs.writeSync(3, 'ready\n');
      fs.closeSync(3);
    } catch {
      // Parent gone; keep serving.
    }
  }
  try {
    await server.persistence.loadAtStartup();
  } catch (e) {
    log.warning(`Fatal error loading the DB: ${(e as Error).message}. Exiting.`);
    process.exit(1);
  }
  log.notice('Ready to accept connections tcp');
  server.repl.startFromConfig();
}

function onSignal(server: Server, sig: string): void {
  if (server.shuttingDown) {
    if (sig === 'SIGINT') {
      server.logger.warning('You insist... exiting now.');
      process.exit(1);
    }
    return;
  }
  server.logger.warning(`Received ${sig} scheduling shutdown...`);
  void server.shutdown({ mode: 'default' }).then((ok) => {
    if (!ok) server.logger.warning('SIGTERM received but errors trying to shut down the server, check the logs for more information');
  });
}
