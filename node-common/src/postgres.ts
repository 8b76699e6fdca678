/** The Postgres pool the Node services use. */
import pg from "pg";

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export function createPool(databaseUrl: string, max = 5): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis: 3000 });
  // An idle client losing its connection (Postgres restarted) must not crash the process.
  pool.on("error", () => undefined);
  return pool;
}
