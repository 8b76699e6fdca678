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

export async function createTestDatabase(suffix: string): Promise<TestDatabase> {
  const name = `fs_test_${suffix.replace(/[^a-z0-9_]/g, "_")}`;
  const admin = createPool(stackDatabaseUrl(), 1);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(name);
  const pool = createPool(url, 4);
  await migrate(pool);
  return { url, pool, close: () => pool.end() };
}
