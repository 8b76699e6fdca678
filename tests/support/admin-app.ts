/**
 * The control plane's admin app inside the test process, on a free loopback port: for the
 * tests that call its API next to its internals (its routes, its metrics, its log).
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import { createLogger } from "@flash-sale/node-common";
import { createAdminApp, type AdminAppDeps } from "../../control-plane/src/api/app";
import { NO_GATEWAY_METRICS, TEST_ADMIN_TOKEN } from "./control-plane";

export const TEST_LIMITS = { userRatePerSecond: 5, userBurst: 5, admitPerSecond: 5000 };

export interface ServedApp {
  app: Express;
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1, any free port. */
export async function serve(app: Express): Promise<ServedApp> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return { app, url: `http://127.0.0.1:${port}`, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The app with the tests' admin token, no gateway metrics, TEST_LIMITS and a silent log, unless `deps` says otherwise. */
export function serveAdminApp(deps: Pick<AdminAppDeps, "pool" | "redis"> & Partial<AdminAppDeps>): Promise<ServedApp> {
  return serve(
    createAdminApp({
      adminToken: TEST_ADMIN_TOKEN,
      gatewayMetricsUrl: NO_GATEWAY_METRICS,
      defaults: { limits: TEST_LIMITS },
      logger: createLogger("control-plane-test", "silent"),
      ...deps,
    }),
  );
}
