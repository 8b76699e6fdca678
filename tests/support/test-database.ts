/**
 * A fresh database for one test file on the stack's Postgres (FS_DATABASE_URL; the project
 * role may create databases), migrated, dropped and recreated at each start.
 */
import { createPool, migrate, type Pool } from "@flash-sale/node-common";

export interface TestDatabase {
  url: string;
  pool: Pool;
  close(): Promise<void>;
}

function stackDatabaseUrl(): string {
  const url = process.env.FS_DATABASE_URL;
  if (url === undefined || url === "") {
    throw new Error("FS_DATABASE_URL is not set: run the tests through `make test` (scripts/test.sh)");
  }
  return url;
}

export function databaseUrl(name: string): string {
  const url = new URL(stackDatabaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Test databases are named after the checkout's own database (scripts/env.sh makes it unique
 * per checkout), so two checkouts running the tests on one Postgres never drop each other's.
 */
export async function createTestDatabase(suffix: string): Promise<TestDatabase> {
  const own = new URL(stackDatabaseUrl()).pathname.slice(1).replace(/[^a-z0-9_]/g, "_");
  const name = `${own}_t_${suffix.replace(/[^a-z0-9_]/g, "_")}`.slice(0, 63);
  const admin = createPool(stackDatabaseUrl(), 1);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return migratedDatabase(databaseUrl(name), 4);
}

/** The database at `url` with the migrations applied, through a pool of `poolSize`. */
export async function migratedDatabase(url: string, poolSize = 2): Promise<TestDatabase> {
  const pool = createPool(url, poolSize);
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return { url, pool, close: () => pool.end() };
}
