/**
 * Reading redis.conf-style text and redis-server command lines, the way Redis 7.0 does it.
 *
 * The command line becomes config text too: `--port 6380 --save ""` turns into the lines
 * `port "6380"` and `save ""`, appended (after an empty line) to the config file and to what
 * stdin gave (`-`). Line numbers in errors count through that whole text, as in Redis. Lines are
 * split like sdssplitargs (quotes and escapes); blank lines and lines starting with '#' are
 * skipped; `include` applies another file in place.
 *
 * All text is handled as bytes (latin1 strings), like client arguments, so a non-ASCII
 * `requirepass` equals what AUTH receives.
 *
 * Two leniencies beyond Redis, each logged as a warning, because configs copied from blog posts
 * carry them: a trailing `# comment` after a directive's arguments, and typographic quotes
 * (“...” ‘...’) used instead of ASCII ones.
 */
import fs from 'node:fs';
import path from 'node:path';
import { splitArgs } from '../protocol/resp-parser.js';
import { commandTable } from '../commands/table.js';
import { Config, ConfigError, fsPath } from './config.js';
import { globMatch } from '../util/glob.js';
import { osErrorText } from '../server/logger.js';

export class FatalConfigError extends Error {
  /**
   * @param lineNumber 0 when the error concerns the configuration as a whole.
   * @param file where the line came from: a path, `(stdin)`, `(command line)`, or ''.
   */
  constructor(
    readonly reason: string,
    readonly lineNumber: number,
    readonly lineText: string,
    readonly file: string,
  ) {
    super(reason);
  }

  /**
   * The message redis-server prints to stderr before exiting with status 1 (as bytes in a
   * latin1 string), plus one line saying where the offending line came from.
   */
  render(version: string): string {
    let s = `\n*** FATAL CONFIG FILE ERROR (Redis ${version}) ***\n`;
    if (this.lineNumber > 0) {
      s += `Reading the configuration file, at line ${this.lineNumber}\n>>> '${this.lineText}'\n`;
    }
    s += `${this.reason}\n`;
    if (this.lineNumber > 0 && this.file) {
      if (this.file === '(command line)') s += 'The line comes from the command line arguments.\n';
      else if (this.file === '(stdin)') s += 'The line comes from the configuration read from stdin.\n';
      else s += `The line comes from the file '${this.file}'.\n`;
    }
    return s;
  }
}

/** Failure to read a config or included file: Redis logs one line and exits with status 1. */
export class ConfigFileOpenError extends Error {
  constructor(
    readonly file: string,
    readonly why: string,
  ) {
    super(`Fatal error, can't open config file '${file}': ${why}`);
  }
}

export interface Line {
  text: string;
  number: number;
  file: string;
}

export interface LoadOptions {
  /** Change directory when `dir` is read, as redis-server does (the CLI; not embedders). */
  chdir?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Assembling the text

/** Reads a config file as bytes; throws ConfigFileOpenError with strerror()'s text. */
export function readConfigText(file: string): string {
  try {
    return fs.readFileSync(fsPath(file), 'latin1');
  } catch (e) {
    throw new ConfigFileOpenError(file, osErrorText(e as NodeJS.ErrnoException));
  }
}

/** Splits text into lines, each remembering its number and origin. */
export function textToLines(text: string, file: string, firstNumber = 1): Line[] {
  return text.split('\n').map((t, i) => ({ text: t, number: firstNumber + i, file }));
}

/**
 * Joins the config file, stdin and command-line options exactly as Redis concatenates them
 * ("file" + "stdin" + "\n" + "options"), so line numbers match redis-server's.
 */
export function assembleConfig(parts: { text: string; origin: string }[]): Line[] {
  const out: Line[] = [];
  let joined = '';
  const starts: { at: number; origin: string }[] = [];
  for (const p of parts) {
    starts.push({ at: joined.length, origin: p.origin });
    joined += p.text;
  }
  let offset = 0;
  let number = 1;
  for (const text of joined.split('\n')) {
    let origin = '';
    for (const s of starts) if (s.at <= offset) origin = s.origin;
    out.push({ text, number, file: origin });
    offset += text.length + 1;
    number++;
  }
  return out;
}

/** C's sdscatrepr: a quoted, escaped rendering of bytes (how Redis puts argv values into the config). */
export function quoteRepr(bytes: string): string {
  let s = '"';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes.charCodeAt(i);
    if (c === 92) s += '\\\\';
    else if (c === 34) s += '\\"';
    else if (c === 10) s += '\\n';
    else if (c === 13) s += '\\r';
    else if (c === 9) s += '\\t';
    else if (c === 7) s += '\\a';
    else if (c === 8) s += '\\b';
    else if (c < 32 || c > 126) s += '\\x' + c.toString(16).padStart(2, '0');
    else s += bytes[i];
  }
  return s + '"';
}

/**
 * The options text redis-server builds from its arguments (those after the config file):
 * `--name` starts a line, each following argument is appended quoted. A bare `--save` means
 * `save ""`. `-` as the first or last argument means "also read stdin".
 * `args` are the process arguments; `first` is the index of the first one after the file.
 */
export function commandLineOptions(args: string[], first: number): { options: string; stdin: boolean } {
  let options = '';
  let stdin = false;
  let handledLast = true;
  for (let j = first; j < args.length; j++) {
    const a = toBytes(args[j]!);
    if (a === '-' && (j === 0 || j === args.length - 1)) {
      stdin = true;
    } else if (handledLast && a.startsWith('--')) {
      if (options.length) options += '\n';
      options += a.slice(2) + ' ';
      const parts = splitArgs(a);
      if (parts !== null && parts.length === 1) {
        // Only the name: its value comes in the next argument(s).
        handledLast = false;
        const next = args[j + 1];
        const isSave = a.toLowerCase() === '--save';
        if (isSave && (next === undefined || next.startsWith('--'))) {
          // `--save` alone (last, or followed by another option) means `save ""`.
          options += '""';
          handledLast = true;
        } else if (a.toLowerCase() === '--sentinel' && (next === undefined || next.startsWith('--'))) {
          handledLast = true;
        }
      } else {
        handledLast = true;
      }
    } else {
      options += quoteRepr(a) + ' ';
      handledLast = true;
    }
  }
  return { options, stdin };
}

/** Turns `--port 6380 --save "" --replicaof 127.0.0.1 6379` into config lines (embedders). */
export function argvToLines(args: string[]): Line[] {
  return textToLines(commandLineOptions(args, 0).options, '(command line)');
}

// ---------------------------------------------------------------------------------------------
// Applying lines

const QUOTE_FIXES: [RegExp, string][] = [
  [/\xe2\x80[\x9c\x9d]/g, '"'],
  [/\xe2\x80[\x98\x99]/g, "'"],
];

/** Cuts an unquoted ` # comment` that follows a directive and at least one argument. */
function stripTrailingComment(line: string): string | null {
  for (let i = 1; i < line.length; i++) {
    if (line[i] !== '#' || !/\s/.test(line[i - 1]!)) continue;
    const before = splitArgs(line.slice(0, i));
    // null: the '#' sits inside quotes. Fewer than two words: it is a value, not a comment.
    if (before !== null && before.length >= 2) return line.slice(0, i);
  }
  return null;
}

function where(line: Line): string {
  return line.file && !line.file.startsWith('(') ? ` of ${line.file}` : '';
}

/**
 * Directives Redis 7.0 knows whose silent omission would leave the server less protected than
 * its operator asked for (no password, a dangerous command still reachable): Mirra refuses to
 * start rather than ignore them.
 */
const UNSAFE_TO_IGNORE: Record<string, string> = {
  user: 'ACL users are not supported by Mirra (use requirepass)',
  aclfile: 'ACL files are not supported by Mirra (use requirepass)',
};

/**
 * Applies lines to the config. Returns warnings. Throws FatalConfigError naming the line for a
 * directive Redis does not know, wrong arity, or a bad value; ConfigFileOpenError when an
 * included file cannot be read.
 */
export function applyLines(config: Config, lines: Line[], opts: LoadOptions = {}, depth = 0): string[] {
  const warnings: string[] = [];
  for (const line of lines) {
    // Redis trims " \t\r\n" and shows the trimmed line in its error message.
    const text = line.text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
    if (text === '' || text.startsWith('#')) continue;
    const fatal = (reason: string) => new FatalConfigError(reason, line.number, text, line.file);
    let fixed = text;
    for (const [re, ascii] of QUOTE_FIXES) fixed = fixed.replace(re, ascii);
    if (fixed !== text) warnings.push(`Typographic quotes read as ASCII quotes at line ${line.number}${where(line)}`);
    let args = splitArgs(fixed);
    if (args !== null) {
      const cut = stripTrailingComment(fixed);
      if (cut !== null) {
        warnings.push(`Trailing comment ignored at line ${line.number}${where(line)}`);
        args = splitArgs(cut);
      }
    }
    if (args === null) throw fatal('Unbalanced quotes in configuration line');
    if (args.length === 0) continue;
    const name = args[0]!.toLowerCase();
    const rest = args.slice(1);

    if (name === 'include' && rest.length === 1) {
      warnings.push(...includeFiles(config, rest[0]!, opts, depth));
      continue;
    }
    if (name === 'sentinel') {
      // `--sentinel` asks for sentinel mode, which Mirra does not have: refuse rather than start
      // a plain server in its place.
      throw fatal(rest.length > 0 ? 'sentinel directive while not in sentinel mode' : 'Sentinel mode is not supported by Mirra');
    }
    if (name === 'rename-command') {
      if (rest.length !== 2) throw fatal('wrong number of arguments');
      if (!commandTable().lookup(rest[0]!)) throw fatal('No such command in rename-command');
      config.renamedCommands.push([rest[0]!.toLowerCase(), rest[1]!.toLowerCase()]);
      continue;
    }
    if (name in UNSAFE_TO_IGNORE && !(name === 'aclfile' && rest.length === 1 && rest[0] === '')) {
      throw fatal(UNSAFE_TO_IGNORE[name]!);
    }
    try {
      const w = config.apply(name, rest);
      if (w) warnings.push(w);
    } catch (e) {
      if (e instanceof ConfigError) throw fatal(e.message);
      throw e;
    }
    if (opts.chdir && config.directive(name)?.name === 'dir') {
      // Redis changes directory while reading the config, so later relative paths (logfile,
      // pidfile, unixsocket) are relative to `dir`.
      try {
        process.chdir(fsPath(config.str('dir')));
      } catch (e) {
        throw fatal(osErrorText(e as NodeJS.ErrnoException));
      }
    }
  }
  return warnings;
}

/** `include <file>`; a '*', '?' or '[' in the file name part includes every match, sorted. */
function includeFiles(config: Config, target: string, opts: LoadOptions, depth: number): string[] {
  if (depth >= 16) throw new FatalConfigError('Too many nested include directives', 0, '', target);
  const base = path.basename(target);
  let files = [target];
  if (/[*?[]/.test(base)) {
    const dir = path.dirname(target);
    let names: string[] = [];
    try {
      names = fs.readdirSync(fsPath(dir)).map(toBytes);
    } catch {
      names = [];
    }
    files = names.filter((n) => globMatch(base, n, false)).sort().map((n) => path.join(dir, n));
  }
  const warnings: string[] = [];
  for (const f of files) {
    warnings.push(...applyLines(config, textToLines(readConfigText(f), f), opts, depth + 1));
  }
  return warnings;
}

/** Command-line arguments are text; config values are bytes. */
function toBytes(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}
