/** The Postgres pool the Node services use. */
import pg from "pg";

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/**
 * Bounds on a session, in ms (0: none), set when it connects: a transaction that waits on a
 * lock held by a frozen process, or a statement that runs away, fails instead of holding its
 * caller (and the locks it took) for good.
 */
export interface SessionTimeouts {
  /** Postgres' lock_timeout: the longest wait for one lock (a row, a table). */
  lockTimeoutMs: number;
  /** statement_timeout: the longest one statement runs. */
  statementTimeoutMs: number;
  /**
   * idle_in_transaction_session_timeout: Postgres ends a session idle this long inside a
   * transaction (its process frozen or gone), which rolls it back and frees its locks.
   */
  idleInTransactionMs: number;
}

/**
 * FS_PG_LOCK_TIMEOUT_MS, FS_PG_STATEMENT_TIMEOUT_MS and FS_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS as
 * shipped. Transactions hold a sale's row for milliseconds, a rebuild for longer; the worker's
 * are idle only between their own statements.
 */
export const DEFAULT_PG_TIMEOUTS: SessionTimeouts = { lockTimeoutMs: 3000, statementTimeoutMs: 30_000, idleInTransactionMs: 10_000 };

/**
 * A connection that breaks (Postgres restarted) emits 'error' on its client, and an unheard
 * 'error' kills the process. pg-pool listens only while a client is idle, so onError listens
 * while it is checked out too. The caller's query fails with the error as well: it releases
 * the client with that error (release(err)), which discards the broken connection.
 * `timeouts` bound every session of the pool; unset ones are the server's (none by default).
 */
export function createPool(
  databaseUrl: string,
  max = 5,
  onError: (err: Error) => void = () => undefined,
  timeouts: Partial<SessionTimeouts> = {},
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: 3000,
    lock_timeout: timeouts.lockTimeoutMs,
    statement_timeout: timeouts.statementTimeoutMs,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
  });
  pool.on("error", (err) => onError(err));
  pool.on("acquire", (client) => client.on("error", onError));
  pool.on("release", (_err, client) => client.removeListener("error", onError));
  return pool;
}
