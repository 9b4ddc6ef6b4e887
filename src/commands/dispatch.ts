/**
 * processCommand + call(): the only place where a request is checked before it runs, in Redis
 * 7.0's order (first match wins):
 *
 *   unknown command → wrong arity → DEBUG protection → NOAUTH → not allowed in MULTI →
 *   OOM → MISCONF → NOREPLICAS → READONLY → RESP2 pub/sub context → MASTERDOWN → LOADING →
 *   MULTI queuing → call
 *
 * Handlers never re-check any of this. `call()` runs a handler with propagation bookkeeping and
 * statistics; EXEC uses it for each queued command.
 */
import type { Client } from '../net/client.js';
import type { CommandSpec } from './spec.js';
import { Err, unknownCommandError } from '../protocol/errors.js';
import { commandTable } from './table.js';
import { recordCommandLatency } from './latency-histogram.js';

const PUBSUB_RESP2_ALLOWED = new Set(['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe', 'ping', 'quit', 'reset']);
const MULTI_PASSTHROUGH = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

/**
 * Command name as the client spelled it → spec. Clients send a name in one case (mostly upper),
 * so a hit here saves lowercasing it and a second table lookup. Bounded, so that a client
 * sending ever new spellings cannot grow it; past the bound the table answers directly.
 */
const bySpelling = new Map<string, CommandSpec>();
const SPELLINGS_MAX = 1024;

function lookupCommand(name: string): CommandSpec | undefined {
  const hit = bySpelling.get(name);
  if (hit !== undefined) return hit;
  const spec = commandTable().lookup(name);
  if (spec !== undefined && bySpelling.size < SPELLINGS_MAX) bySpelling.set(name, spec);
  return spec;
}

export function processCommand(c: Client, argv: string[]): void {
  const server = c.server;
  const top = lookupCommand(argv[0]!);
  if (top === undefined) {
    rejectCommand(c, unknownCommandError(argv));
    return;
  }
  let spec: CommandSpec = top;
  if (top.subcommands !== undefined && argv.length >= 2) {
    const sub = top.subcommands.get(argv[1]!.toLowerCase());
    if (sub === undefined) {
      rejectCommand(c, Err.unknownSubcommand(argv[1]!, top.name));
      return;
    }
    spec = sub;
  }
  const arity = spec.arity;
  if ((arity > 0 && argv.length !== arity) || argv.length < -arity) {
    spec.stats.rejected++;
    rejectCommand(c, Err.wrongArity(spec.fullName), top);
    return;
  }
  if (top.name === 'debug' && !server.debugAllowed(c)) {
    rejectCommand(c, Err.debugDisabled);
    return;
  }
  if (!c.authenticated && !spec.noAuth) {
    rejectCommand(c, Err.noAuth, top);
    return;
  }
  const inMulti = c.flags.multi;
  if (inMulti && spec.noMulti) {
    rejectCommand(c, Err.notAllowedInMulti);
    return;
  }
  const isWrite = spec.isWrite || (top.name === 'exec' && server.execWillWrite(c));
  const fromMaster = c.flags.master;
  if (!fromMaster) {
    if (spec.denyOom && server.overMaxmemory()) {
      rejectCommand(c, Err.oom, top);
      return;
    }
    if (isWrite && server.persistence.writesRefused()) {
      rejectCommand(c, Err.misconf, top);
      return;
    }
    // AOF hook: writes are refused while the AOF cannot be written or fsynced.
    const aofError = isWrite ? server.persistence.aof.writeErrorReply() : null;
    if (aofError !== null) {
      rejectCommand(c, aofError, top);
      return;
    }
    if (isWrite && !server.repl.enoughGoodReplicas()) {
      rejectCommand(c, Err.noReplicas, top);
      return;
    }
    if (isWrite && server.repl.isReplica && server.config.bool('replica-read-only')) {
      rejectCommand(c, Err.readonly, top);
      return;
    }
    if (c.flags.pubsub && c.w.proto === 2 && !PUBSUB_RESP2_ALLOWED.has(top.name)) {
      rejectCommand(
        c,
        `ERR Can't execute '${spec.fullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
      );
      return;
    }
    if (!spec.allowStale && server.repl.isReplica && !server.repl.linkUp && !server.config.bool('replica-serve-stale-data')) {
      rejectCommand(c, Err.masterDown, top);
      return;
    }
    if (server.persistence.loading && !spec.allowLoading) {
      rejectCommand(c, Err.loading, top);
      return;
    }
  }
  if (inMulti && !MULTI_PASSTHROUGH.has(top.name)) {
    server.tx.queue(c, spec, argv);
    return;
  }
  // CLIENT PAUSE (and FAILOVER / SHUTDOWN waits): the command waits, it is not refused.
  if (server.pause !== null && !fromMaster && !c.flags.replica && server.mustPostpone(spec, isWrite)) {
    server.postpone(c, argv);
    return;
  }
  const skipReply = c.replyMode === 'skip';
  if (skipReply) c.w.enabled = false;
  call(c, spec, argv);
  if (skipReply) {
    c.replyMode = 'on';
    c.w.enabled = true;
  }
  if (c.flags.master) return;
  c.woff = server.repl.masterReplOffset;
}

/**
 * Replies with an error for a command that did not run; inside MULTI it poisons EXEC. A refused
 * EXEC (`top` is exec) discards the transaction with `-EXECABORT ... because of: <reason>`.
 */
function rejectCommand(c: Client, msg: string, top?: CommandSpec): void {
  c.server.stats.rejectedCalls++;
  if (top !== undefined && top.name === 'exec' && c.flags.multi) {
    c.server.tx.execAbort(c, msg);
    return;
  }
  if (c.flags.multi) c.flags.dirtyExec = true;
  c.w.error(msg);
  if (c.flags.master) c.server.logger.warning(`Command from master failed: ${msg}`);
}

/**
 * Runs a command whose checks passed: statistics, MONITOR feed, propagation of what it changed.
 */
export function call(c: Client, spec: CommandSpec, argv: string[]): void {
  const server = c.server;
  const ks = server.keyspace;
  const prop = server.propagator;
  if (server.monitors.size > 0 && !spec.flags.has('skip_monitor') && !spec.isAdmin) server.feedMonitors(c, argv);
  const dirtyBefore = ks.dirty;
  const dbBefore = c.db.id;
  const frame = prop.begin();
  const t0 = performance.now();
  const handler = spec.handler!;
  const errorsBefore = c.w.errorCount;
  handler(c, argv);
  const us = Math.round((performance.now() - t0) * 1000);
  const changed = ks.dirty !== dirtyBefore;
  prop.end(frame, dbBefore, argv, changed);
  spec.stats.calls++;
  spec.stats.usec += us;
  if (server.latencyTracking) recordCommandLatency(spec.stats, us);
  if (c.w.errorCount !== errorsBefore) spec.stats.failed++;
  server.stats.commands++;
  c.lastCommand = spec.fullName;
  if (us >= server.slowlogThreshold && server.slowlogThreshold >= 0 && !spec.flags.has('skip_slowlog')) {
    server.slowlog.record(c, argv, us);
  }
  if (changed) server.afterWrite();
}
