/**
 * The one propagation path (design §3). A write command, once it ran and changed the dataset,
 * yields one or more "ops" (db, argv). Ops from one top-level call are collected; when the
 * call ends they are fed to every sink (replication stream, AOF), wrapped in MULTI/EXEC when
 * there is more than one, as Redis 7.0's propagatePendingCommands does.
 *
 * Handlers shape what is propagated through the current call:
 *  - `rewrite(argv)`  propagate this argv instead of the client's (PXAT rewrites, SPOP → SREM)
 *  - `also(db, argv)` add an op (several effects of one command)
 *  - `prevent()`      propagate nothing for this command even though it changed the dataset
 *  - `force(replOnly)` propagate even though nothing changed; PUBLISH passes replOnly=true
 *                     because Redis sends it to replicas but never writes it to the AOF
 */
import { encodeCommand } from '../protocol/encode.js';

/** Receives the propagated stream. `encoded` is the command already in RESP form. */
export interface StreamSink {
  /** False when the sink would discard the op (no backlog, AOF off): saves the encoding. */
  readonly active?: boolean;
  feed(db: number, argv: readonly string[], encoded: Buffer): void;
}

interface Op {
  db: number;
  argv: string[];
  /** Only for the replication stream (not the AOF / local sinks). */
  replOnly: boolean;
}

export class Propagator {
  private depth = 0;
  private ops: Op[] = [];
  private override: string[] | null = null;
  private prevented = false;
  private forced = false;
  private forcedReplOnly = false;
  /** Sinks that receive everything (AOF) and those that receive only this node's own writes (replicas). */
  readonly sinks: StreamSink[] = [];
  /** When false (this node is a replica) ops are fed only to sinks marked local. */
  feedReplicas = true;
  readonly localSinks: StreamSink[] = [];
  /**
   * While > 0 nothing reaches any sink: the AOF replaying its own commands at startup (Redis's
   * shouldPropagate is false while loading).
   */
  suspended = 0;

  /**
   * Saved state of the enclosing calls, one frame per nesting depth. Calls nest strictly
   * (begin/end pairs), so a depth's frame is free again once its call ended: reusing them keeps
   * every command from allocating one.
   */
  private readonly frames: CallFrame[] = [];

  /** Starts a (possibly nested) command call. Returns a token to pass to end(). */
  begin(): CallFrame {
    let frame = this.frames[this.depth];
    if (frame === undefined) {
      frame = { override: null, prevented: false, forced: false, forcedReplOnly: false };
      this.frames[this.depth] = frame;
    }
    frame.override = this.override;
    frame.prevented = this.prevented;
    frame.forced = this.forced;
    frame.forcedReplOnly = this.forcedReplOnly;
    this.forcedReplOnly = false;
    this.override = null;
    this.prevented = false;
    this.forced = false;
    this.depth++;
    return frame;
  }

  /**
   * Ends a call. If `changed` (the dirty counter moved) or propagation was forced, the op is
   * recorded; at depth 0 every pending op is fed to the sinks.
   */
  end(frame: CallFrame, db: number, argv: string[], changed: boolean): void {
    // A top-level op would be fed at once, below: when no sink records the stream (no backlog,
    // AOF off) it is not even collected.
    if ((changed || this.forced) && !this.prevented && (this.depth > 1 || this.anySinkActive())) {
      this.ops.push({ db, argv: this.override ?? argv, replOnly: !changed && this.forcedReplOnly });
    }
    this.override = frame.override;
    this.prevented = frame.prevented;
    this.forced = frame.forced;
    this.forcedReplOnly = frame.forcedReplOnly;
    this.depth--;
    if (this.depth === 0 && this.ops.length > 0) this.flush();
  }

  rewrite(argv: string[]): void {
    this.override = argv;
  }

  prevent(): void {
    this.prevented = true;
  }

  force(replOnly = false): void {
    this.forced = true;
    this.forcedReplOnly = replOnly;
  }

  /** Adds an op to the current call, or propagates it at once outside any call (active expiry). */
  also(db: number, argv: string[]): void {
    this.ops.push({ db, argv, replOnly: false });
    if (this.depth === 0) this.flush();
  }

  /** True when feed() may hand an op to some sink (see StreamSink.active). */
  private anySinkActive(): boolean {
    if (this.suspended > 0) return false;
    for (const s of this.localSinks) if (s.active !== false) return true;
    if (this.feedReplicas) for (const s of this.sinks) if (s.active !== false) return true;
    return false;
  }

  get inCall(): boolean {
    return this.depth > 0;
  }

  private flush(): void {
    const ops = this.ops;
    this.ops = [];
    const wrap = ops.length > 1;
    if (wrap) this.feed(ops[0]!.db, ['MULTI'], false);
    for (const op of ops) this.feed(op.db, op.argv, op.replOnly && !wrap);
    if (wrap) this.feed(ops[0]!.db, ['EXEC'], false);
  }

  /** Encodes the op once, and only if some sink will use it. */
  private feed(db: number, argv: string[], replOnly: boolean): void {
    if (this.suspended > 0) return;
    let encoded: Buffer | null = null;
    if (!replOnly) {
      for (const s of this.localSinks) {
        if (s.active === false) continue;
        encoded ??= encodeCommand(argv);
        s.feed(db, argv, encoded);
      }
    }
    if (!this.feedReplicas) return;
    for (const s of this.sinks) {
      if (s.active === false) continue;
      encoded ??= encodeCommand(argv);
      s.feed(db, argv, encoded);
    }
  }
}

export interface CallFrame {
  override: string[] | null;
  prevented: boolean;
  forced: boolean;
  forcedReplOnly: boolean;
}
