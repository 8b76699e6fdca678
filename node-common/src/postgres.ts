/** The Postgres pool the Node services use. */
import pg from "pg";

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/**
 * A connection that breaks (Postgres restarted) emits 'error' on its client, and an unheard
 * 'error' kills the process. pg-pool listens only while a client is idle, so onError listens
 * while it is checked out too. The caller's query fails with the error as well: it releases
 * the client with that error (release(err)), which discards the broken connection.
 */
export function createPool(databaseUrl: string, max = 5, onError: (err: Error) => void = () => undefined): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis: 3000 });
  pool.on("error", (err) => onError(err));
  pool.on("acquire", (client) => client.on("error", onError));
  pool.on("release", (_err, client) => client.removeListener("error", onError));
  return pool;
}
