import { ConfigError, readEnv } from "../src/env";

describe("FS_WORKER_MAX_DELIVERIES", () => {
  test("defaults to 5 and reads a whole number of at least 1", () => {
    expect(readEnv(["FS_WORKER_MAX_DELIVERIES"], {}).FS_WORKER_MAX_DELIVERIES).toBe(5);
    expect(readEnv(["FS_WORKER_MAX_DELIVERIES"], { FS_WORKER_MAX_DELIVERIES: "3" }).FS_WORKER_MAX_DELIVERIES).toBe(3);
  });

  test.each(["0", "2.5", "many"])("refuses %s, naming the variable", (value) => {
    expect(() => readEnv(["FS_WORKER_MAX_DELIVERIES"], { FS_WORKER_MAX_DELIVERIES: value })).toThrow(ConfigError);
    expect(() => readEnv(["FS_WORKER_MAX_DELIVERIES"], { FS_WORKER_MAX_DELIVERIES: value })).toThrow(/FS_WORKER_MAX_DELIVERIES/);
  });
});

describe("FS_PG_LOCK_TIMEOUT_MS, FS_PG_STATEMENT_TIMEOUT_MS, FS_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS", () => {
  const names = ["FS_PG_LOCK_TIMEOUT_MS", "FS_PG_STATEMENT_TIMEOUT_MS", "FS_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS"] as const;

  test("bound every session by default, and 0 lifts a bound", () => {
    expect(readEnv(names, {})).toEqual({ FS_PG_LOCK_TIMEOUT_MS: 3000, FS_PG_STATEMENT_TIMEOUT_MS: 30000, FS_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: 10000 });
    expect(readEnv(["FS_PG_LOCK_TIMEOUT_MS"], { FS_PG_LOCK_TIMEOUT_MS: "0" }).FS_PG_LOCK_TIMEOUT_MS).toBe(0);
  });

  test.each(names)("%s refuses a negative or fractional value, naming the variable", (name) => {
    for (const value of ["-1", "2.5", "soon"]) expect(() => readEnv([name], { [name]: value })).toThrow(new RegExp(name));
  });
});
