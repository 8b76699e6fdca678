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
