/**
 * Connection commands: PING ECHO SELECT QUIT RESET HELLO AUTH CLIENT.
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';
import { globMatch } from '../util/glob.js';
import { REDIS_VERSION } from '../server/server.js';
import { is } from './args.js';

function ping(c: Client, argv: string[]): void {
  if (argv.length > 2) {
    c.w.error(Err.wrongArity('ping'));
    return;
  }
  if (c.flags.pubsub && c.w.proto === 2) {
    c.w.array(2);
    c.w.bulk('pong');
    c.w.bulk(argv[1] ?? '');
    return;
  }
  if (argv.length === 2) c.w.bulk(argv[1]!);
  else c.w.simple('PONG');
}

function echo(c: Client, argv: string[]): void {
  c.w.bulk(argv[1]!);
}

function select(c: Client, argv: string[]): void {
  const id = parseInt64(argv[1]!);
  if (id === null) {
    c.w.error(Err.notInteger);
    return;
  }
  const db = c.server.keyspace.dbs[id];
  if (id < 0 || db === undefined) {
    c.w.error(Err.dbIndexOutOfRange);
    return;
  }
  c.db = db;
  c.w.ok();
}

function quit(c: Client): void {
  c.w.ok();
  c.flags.closeAfterReply = true;
}

/** RESET: back to a fresh connection's state (keeps the connection and its id). */
function reset(c: Client): void {
  c.server.tx.discard(c);
  c.server.tx.unwatchAll(c);
  c.server.pubsub.unsubscribeAll(c, false);
  if (c.flags.monitor) {
    c.flags.monitor = false;
    c.server.monitors.delete(c);
  }
  c.db = c.server.keyspace.dbs[0]!;
  c.w.proto = 2;
  c.name = '';
  c.replyMode = 'on';
  c.w.enabled = true;
  c.flags.noEvict = false;
  c.authenticated = c.server.config.str('requirepass') === '';
  c.parser.unauthenticated = !c.authenticated;
  c.w.simple('RESET');
}

/** Checks a password for the default user (the only user until ACLs exist); replies on failure. */
function checkAuth(c: Client, user: string, pass: string): boolean {
  const required = c.server.config.str('requirepass');
  if (user !== 'default' || (required !== '' && pass !== required)) {
    c.w.error(Err.wrongPass);
    return false;
  }
  c.authenticated = true;
  c.parser.unauthenticated = false;
  c.user = user;
  return true;
}

function auth(c: Client, argv: string[]): void {
  if (argv.length > 3) {
    c.w.error(Err.syntax);
    return;
  }
  const required = c.server.config.str('requirepass');
  if (argv.length === 2 && required === '') {
    c.w.error(Err.noPasswordConfigured);
    return;
  }
  const user = argv.length === 3 ? argv[1]! : 'default';
  const pass = argv[argv.length - 1]!;
  if (checkAuth(c, user, pass)) c.w.ok();
}

function hello(c: Client, argv: string[]): void {
  let ver: number | null = null;
  let i = 1;
  if (argv.length >= 2) {
    ver = parseInt64(argv[1]!);
    if (ver === null) {
      c.w.error('ERR Protocol version is not an integer or out of range');
      return;
    }
    i = 2;
    if (ver < 2 || ver > 3) {
      c.w.error(Err.noProto);
      return;
    }
  }
  let setname: string | null = null;
  let authUser: string | null = null;
  let authPass: string | null = null;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    if (is(argv[i]!, 'auth') && more >= 2) {
      authUser = argv[i + 1]!;
      authPass = argv[i + 2]!;
      i += 2;
    } else if (is(argv[i]!, 'setname') && more >= 1) {
      setname = argv[i + 1]!;
      i += 1;
    } else {
      c.w.error(`ERR Syntax error in HELLO option '${argv[i]}'`);
      return;
    }
  }
  if (authUser !== null && authPass !== null) {
    if (!checkAuth(c, authUser, authPass)) return;
  }
  if (!c.authenticated) {
    c.w.error(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    );
    return;
  }
  if (setname !== null) {
    if (!validClientName(setname)) {
      c.w.error('ERR Client names cannot contain spaces, newlines or special characters.');
      return;
    }
    c.name = setname;
  }
  if (ver !== null) c.w.proto = ver as 2 | 3;
  const w = c.w;
  w.map(7);
  w.bulk('server');
  w.bulk('redis');
  w.bulk('version');
  w.bulk(REDIS_VERSION);
  w.bulk('proto');
  w.int(w.proto);
  w.bulk('id');
  w.int(c.id);
  w.bulk('mode');
  w.bulk('standalone');
  w.bulk('role');
  w.bulk(c.server.repl.isReplica ? 'replica' : 'master');
  w.bulk('modules');
  w.array(0);
}

function validClientName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 33 || ch > 126) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// CLIENT

function flagString(c: Client): string {
  let f = '';
  if (c.flags.replica && !c.flags.monitor) f += 'S';
  if (c.flags.master) f += 'M';
  if (c.flags.pubsub) f += 'P';
  if (c.flags.multi) f += 'x';
  if (c.flags.blocked) f += 'b';
  if (c.flags.dirtyCas) f += 'd';
  if (c.flags.closeAfterReply) f += 'c';
  if (c.flags.unixSocket) f += 'U';
  if (c.flags.monitor) f += 'O';
  if (c.flags.noEvict) f += 'e';
  return f === '' ? 'N' : f;
}

/** One CLIENT LIST / CLIENT INFO line (without the trailing newline). */
export function clientInfoLine(c: Client): string {
  const now = c.server.clock.ms;
  const sub = c.server.pubsub.counts(c);
  const multi = c.flags.multi ? ((c.multiState as { commands: unknown[] } | null)?.commands.length ?? 0) : -1;
  const qbuf = c.parser.bufferedBytes;
  const omem = c.outputBytes;
  return (
    `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=${(c.socket as unknown as { _handle?: { fd?: number } })?._handle?.fd ?? -1} ` +
    `name=${c.name} age=${Math.floor((now - c.createdAt) / 1000)} idle=${Math.floor((now - c.lastInteraction) / 1000)} ` +
    `flags=${flagString(c)} db=${c.db.id} sub=${sub[0]} psub=${sub[1]} ssub=${sub[2]} multi=${multi} ` +
    `qbuf=${qbuf} qbuf-free=${qbuf === 0 ? 0 : 20474} argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=${omem} ` +
    `tot-mem=${omem + qbuf + 22000} events=r cmd=${c.lastCommand} user=${c.user} redir=-1 resp=${c.w.proto}`
  );
}

function clientId(c: Client): void {
  c.w.int(c.id);
}

function clientSetname(c: Client, argv: string[]): void {
  const name = argv[2]!;
  if (!validClientName(name)) {
    c.w.error('ERR Client names cannot contain spaces, newlines or special characters.');
    return;
  }
  c.name = name;
  c.w.ok();
}

function clientGetname(c: Client): void {
  if (c.name === '') c.w.nullBulk();
  else c.w.bulk(c.name);
}

function clientInfo(c: Client): void {
  c.w.verbatim(clientInfoLine(c) + '\n');
}

function clientList(c: Client, argv: string[]): void {
  let clients = [...c.server.clients.values()];
  if (argv.length === 4 && is(argv[2]!, 'type')) {
    const t = argv[3]!.toLowerCase();
    const type = t === 'slave' ? 'replica' : t;
    if (!['normal', 'master', 'replica', 'pubsub'].includes(type)) {
      c.w.error(`ERR Unknown client type '${argv[3]}'`);
      return;
    }
    clients = clients.filter((x) => x.type === type);
  } else if (argv.length > 3 && is(argv[2]!, 'id')) {
    const ids = new Set<number>();
    for (const a of argv.slice(3)) {
      // Only a non-integer is an error; ids matching no client (0, negatives) list nothing.
      const id = parseInt64(a);
      if (id === null) {
        c.w.error('ERR Invalid client ID');
        return;
      }
      ids.add(id);
    }
    clients = clients.filter((x) => ids.has(x.id));
  } else if (argv.length !== 2) {
    c.w.error(Err.syntax);
    return;
  }
  c.w.verbatim(clients.map((x) => clientInfoLine(x) + '\n').join(''));
}

function clientKill(c: Client, argv: string[]): void {
  const server = c.server;
  if (argv.length === 3) {
    const target = [...server.clients.values()].find((x) => x.addr === argv[2]);
    if (!target) {
      c.w.error('ERR No such client');
      return;
    }
    c.w.ok();
    killClient(c, target);
    return;
  }
  if (argv.length % 2 !== 0) {
    c.w.error(Err.syntax);
    return;
  }
  let filter: (x: Client) => boolean = () => true;
  let skipMe = true;
  for (let i = 2; i < argv.length; i += 2) {
    const opt = argv[i]!.toLowerCase();
    const val = argv[i + 1]!;
    const prev = filter;
    if (opt === 'id') {
      const id = parseInt64(val);
      if (id === null || id <= 0) {
        c.w.error('ERR client-id should be greater than 0');
        return;
      }
      filter = (x) => prev(x) && x.id === id;
    } else if (opt === 'type') {
      const t = val.toLowerCase() === 'slave' ? 'replica' : val.toLowerCase();
      if (!['normal', 'master', 'replica', 'pubsub'].includes(t)) {
        c.w.error(`ERR Unknown client type '${val}'`);
        return;
      }
      filter = (x) => prev(x) && x.type === t;
    } else if (opt === 'addr') {
      filter = (x) => prev(x) && x.addr === val;
    } else if (opt === 'laddr') {
      filter = (x) => prev(x) && x.laddr === val;
    } else if (opt === 'user') {
      // 'default' is the only user while ACLs do not exist.
      if (val !== 'default') {
        c.w.error(`ERR No such user '${val}'`);
        return;
      }
      filter = (x) => prev(x) && x.user === val;
    } else if (opt === 'skipme') {
      const v = val.toLowerCase();
      if (v !== 'yes' && v !== 'no') {
        c.w.error(Err.syntax);
        return;
      }
      skipMe = v === 'yes';
    } else {
      c.w.error(Err.syntax);
      return;
    }
  }
  let killed = 0;
  for (const x of [...server.clients.values()]) {
    if (!filter(x) || (skipMe && x === c)) continue;
    killClient(c, x);
    killed++;
  }
  c.w.int(killed);
}

function killClient(self: Client, target: Client): void {
  if (target === self) target.flags.closeAfterReply = true;
  else {
    target.flush();
    target.close();
  }
}

function clientReply(c: Client, argv: string[]): void {
  const mode = argv[2]!.toLowerCase();
  if (mode === 'on') {
    c.replyMode = 'on';
    c.w.enabled = true;
    c.w.ok();
  } else if (mode === 'off') {
    c.replyMode = 'off';
    c.w.enabled = false;
  } else if (mode === 'skip') {
    if (c.replyMode !== 'off') c.replyMode = 'skip';
  } else c.w.error(Err.syntax);
}

/** addReplySubcommandSyntaxError: a known subcommand given too many arguments. */
function subcommandSyntaxError(c: Client, argv: string[]): void {
  c.w.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try ${argv[0]!.toUpperCase()} HELP.`);
}

function clientPause(c: Client, argv: string[]): void {
  if (argv.length > 4) {
    subcommandSyntaxError(c, argv);
    return;
  }
  // getTimeoutFromObjectOrReply (milliseconds).
  const ms = parseInt64(argv[2]!);
  if (ms === null) {
    c.w.error('ERR timeout is not an integer or out of range');
    return;
  }
  if (ms < 0) {
    c.w.error('ERR timeout is negative');
    return;
  }
  if (ms > 0 && ms > 2 ** 63 - 1 - c.server.clock.ms) {
    c.w.error('ERR timeout is out of range');
    return;
  }
  let writesOnly = false;
  if (argv.length === 4) {
    const m = argv[3]!.toLowerCase();
    if (m === 'write') writesOnly = true;
    else if (m !== 'all') {
      c.w.error('ERR CLIENT PAUSE mode must be WRITE or ALL');
      return;
    }
  }
  c.server.pauseClients('client', c.server.clock.ms + ms, writesOnly);
  c.w.ok();
}

function clientUnpause(c: Client): void {
  c.server.unpauseClients('client');
  c.w.ok();
}

function clientNoEvict(c: Client, argv: string[]): void {
  const v = argv[2]!.toLowerCase();
  if (v !== 'on' && v !== 'off') {
    c.w.error(Err.syntax);
    return;
  }
  c.flags.noEvict = v === 'on';
  c.w.ok();
}

/** CLIENT UNBLOCK id [TIMEOUT|ERROR]: releases a client blocked in BLPOP, XREAD, WAIT... */
function clientUnblock(c: Client, argv: string[]): void {
  if (argv.length > 4) {
    subcommandSyntaxError(c, argv);
    return;
  }
  const id = parseInt64(argv[2]!);
  if (id === null) {
    c.w.error(Err.notInteger);
    return;
  }
  let withError = false;
  if (argv.length === 4) {
    const mode = argv[3]!.toLowerCase();
    if (mode === 'error') withError = true;
    else if (mode !== 'timeout') {
      c.w.error('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
      return;
    }
  }
  const target = c.server.clients.get(id);
  c.w.int(target !== undefined && target.flags.blocked && c.server.blocking.clientUnblock(target, withError) ? 1 : 0);
}

/** CLIENT GETREDIR: the tracking redirection; -1 as tracking is never on (not implemented). */
function clientGetredir(c: Client): void {
  c.w.int(-1);
}

/** CLIENT TRACKINGINFO for a connection without tracking (Mirra implements no tracking). */
function clientTrackinginfo(c: Client): void {
  const w = c.w;
  w.map(3);
  w.bulk('flags');
  w.set(1);
  w.bulk('off');
  w.bulk('redirect');
  w.int(-1);
  w.bulk('prefixes');
  w.array(0);
}

/**
 * Redis's CLIENT HELP text (status lines), without CACHING and TRACKING, which Mirra does not
 * implement.
 */
const CLIENT_HELP = [
  'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GETREDIR',
  '    Return the client ID we are redirecting to when tracking is enabled.',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'KILL <ip:port>',
  '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Kill connections by type.',
  '    * USER <username>',
  '      Kill connections authenticated by <username>.',
  '    * SKIPME (YES|NO)',
  '      Skip killing current connection (default: yes).',
  'LIST [options ...]',
  '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Return clients of specified type.',
  'UNPAUSE',
  '    Stop the current client pause, resuming traffic.',
  'PAUSE <timeout> [WRITE|ALL]',
  '    Suspend all, or just write, clients for <timeout> milliseconds.',
  'REPLY (ON|OFF|SKIP)',
  '    Control the replies sent to the current connection.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'UNBLOCK <clientid> [TIMEOUT|ERROR]',
  '    Unblock the specified blocked client.',
  'TRACKINGINFO',
  '    Report tracking status for the current connection.',
  'NO-EVICT (ON|OFF)',
  '    Protect current client connection from eviction.',
  'HELP',
  '    Prints this help.',
];

function clientHelp(c: Client): void {
  c.w.array(CLIENT_HELP.length);
  for (const l of CLIENT_HELP) c.w.simple(l);
}

export const connectionCommands: CommandDef[] = [
  { name: 'ping', handler: ping },
  { name: 'echo', handler: echo },
  { name: 'select', handler: select },
  { name: 'quit', handler: quit },
  { name: 'reset', handler: reset },
  { name: 'auth', handler: auth },
  { name: 'hello', handler: hello },
  {
    name: 'client',
    subcommands: [
      { name: 'id', handler: clientId },
      { name: 'setname', handler: clientSetname },
      { name: 'getname', handler: clientGetname },
      { name: 'info', handler: clientInfo },
      { name: 'list', handler: clientList },
      { name: 'kill', handler: clientKill },
      { name: 'reply', handler: clientReply },
      { name: 'pause', handler: clientPause },
      { name: 'unpause', handler: clientUnpause },
      { name: 'no-evict', handler: clientNoEvict },
      { name: 'unblock', handler: clientUnblock },
      { name: 'getredir', handler: clientGetredir },
      { name: 'trackinginfo', handler: clientTrackinginfo },
      { name: 'help', handler: clientHelp },
    ],
  },
];

export { globMatch };
