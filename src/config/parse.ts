/**
 * Reading redis.conf-style text and redis-server command lines.
 *
 * A line is split like Redis's sdssplitargs (quotes and escapes); blank lines and lines starting
 * with '#' are skipped. `include` pulls in another file. Command-line `--name value ...` options
 * are applied after the file, as redis-server does.
 *
 * Two leniencies beyond Redis, each logged as a warning, because configs copied from blog posts
 * carry them: a trailing `# comment` after a directive's arguments, and typographic quotes
 * (“...”) used instead of ASCII ones.
 */
import fs from 'node:fs';
import path from 'node:path';
import { splitArgs } from '../protocol/resp-parser.js';
import { Config, ConfigError } from './config.js';

export class FatalConfigError extends Error {
  constructor(
    readonly reason: string,
    readonly lineNumber: number,
    readonly lineText: string,
    readonly file: string,
  ) {
    super(reason);
  }

  /** The multi-line message redis-server prints before exiting with status 1. */
  render(version: string): string {
    return (
      `\n*** FATAL CONFIG FILE ERROR (Redis ${version}) ***\n` +
      `Reading the configuration file, at line ${this.lineNumber}\n` +
      `>>> '${this.lineText}'\n` +
      `${this.reason}` +
      (this.file ? ` (in ${this.file})` : '') +
      '\n'
    );
  }
}

export interface Line {
  text: string;
  number: number;
  file: string;
}

/** Reads a config file (following `include`) into lines with their origins. */
export function readConfigFile(file: string, depth = 0): Line[] {
  if (depth > 10) throw new FatalConfigError('Too many nested includes', 0, '', file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new FatalConfigError(`Fatal error, can't open config file '${file}': ${(e as Error).message}`, 0, '', file);
  }
  const out: Line[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const trimmed = raw.trim();
    if (/^include\s/i.test(trimmed)) {
      const target = splitArgs(trimmed)?.[1];
      if (target) {
        const resolved = path.isAbsolute(target) ? target : path.resolve(target);
        out.push(...readConfigFile(resolved, depth + 1));
        continue;
      }
    }
    out.push({ text: raw, number: i + 1, file });
  }
  return out;
}

/** Turns `--port 6380 --save "" --replicaof 127.0.0.1 6379` into config lines. */
export function argvToLines(args: string[]): Line[] {
  const out: Line[] = [];
  let cur: string[] | null = null;
  const push = () => {
    if (cur) out.push({ text: cur.map(quoteArg).join(' '), number: out.length + 1, file: '' });
  };
  for (const a of args) {
    if (a.startsWith('--') && a.length > 2) {
      push();
      cur = [a.slice(2)];
    } else {
      if (!cur) throw new FatalConfigError('Invalid argument on the command line', out.length + 1, a, '');
      cur.push(a);
    }
  }
  push();
  return out;
}

function quoteArg(a: string): string {
  if (a === '' || /[\s"'\\]/.test(a)) return '"' + a.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
  return a;
}

/**
 * Applies lines to the config. Returns warnings. Throws FatalConfigError naming the line for a
 * directive Redis does not know, wrong arity, or a bad value.
 */
export function applyLines(config: Config, lines: Line[]): string[] {
  const warnings: string[] = [];
  for (const line of lines) {
    const trimmed = line.text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    let text = trimmed;
    if (/[\u201c\u201d]/.test(text)) {
      text = text.replace(/[\u201c\u201d]/g, '"');
      warnings.push(`Typographic quotes replaced by '"' at line ${line.number}${line.file ? ' of ' + line.file : ''}`);
    }
    let args = splitArgs(toLatin1(text));
    if (args === null) throw new FatalConfigError('Unbalanced quotes in configuration line', line.number, line.text, line.file);
    args = args.map(fromLatin1);
    const commentAt = args.findIndex((a, i) => i > 1 && a.startsWith('#'));
    if (commentAt > 0) {
      args = args.slice(0, commentAt);
      warnings.push(`Trailing comment ignored at line ${line.number}${line.file ? ' of ' + line.file : ''}`);
    }
    const [name, ...rest] = args;
    if (!name) continue;
    try {
      const d = config.directive(name);
      if (d && d.args === undefined && rest.length !== 1) {
        throw new ConfigError('wrong number of arguments');
      }
      const w = config.apply(name, rest);
      if (w) warnings.push(w);
    } catch (e) {
      if (e instanceof ConfigError) {
        const known = config.directive(name) !== undefined;
        const reason = known ? e.message : 'Bad directive or wrong number of arguments';
        throw new FatalConfigError(reason, line.number, line.text, line.file);
      }
      throw e;
    }
  }
  return warnings;
}

// Config text is UTF-8; the argument splitter works on byte strings.
function toLatin1(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}
function fromLatin1(s: string): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}
