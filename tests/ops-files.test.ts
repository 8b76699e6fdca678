/**
 * The files an SRE deploys with, checked by the tools that will read them: docker-compose.yml
 * by Debian's docker-compose (`config`), the Prometheus scrape configs, the alert rules (and
 * their unit tests) and the Grafana dashboard's queries by promtool, the Alertmanager route by
 * amtool, the systemd units by systemd-analyze. No Docker engine, Prometheus, Alertmanager or
 * systemd (as init) runs here.
 */
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { REPO_ROOT } from "./support/stream-fixtures";
import { dashboardPanels, dashboardQueries } from "./support/dashboard";

let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "fs-ops-"));
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  output: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: "utf8" }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : null, output: stdout + stderr }),
    );
  });
}

/** The variables docker-compose.yml requires (`${…:?}`), as .env.local gives them. */
const COMPOSE_ENV = { FS_JWT_SECRET: "s".repeat(48), FS_ADMIN_TOKEN: "t".repeat(40) };

test("docker-compose config accepts docker-compose.yml with every service, and refuses a broken copy", async () => {
  const ok = await run("docker-compose", ["-f", "docker-compose.yml", "--profile", "observability", "config", "-q"], COMPOSE_ENV);
  expect(ok.output).toBe("");
  expect(ok.code).toBe(0);
  const services = await run("docker-compose", ["-f", "docker-compose.yml", "--profile", "observability", "config", "--services"], COMPOSE_ENV);
  // docker-compose 1.29 lists the services of every profile; the cluster shape is checked below.
  const ofCluster = (name: string) => /^redis-node-|-cluster-\d$|^redis-cluster-init$/.test(name);
  expect(services.output.trim().split("\n").filter((n) => !ofCluster(n)).sort()).toEqual([
    "control-plane", "gateway", "grafana", "order-worker", "postgres", "postgres-exporter", "prometheus", "redis", "redis-exporter",
  ]);

  // Every long-running service has a healthcheck (the cluster's one-shot join is none).
  const resolved = await run("docker-compose", ["-f", "docker-compose.yml", "--profile", "observability", "config"], COMPOSE_ENV);
  const blocks = resolved.output.split(/\n  (?=[a-z0-9-]+:\n)/).filter((b) => b.includes("image:") && !b.startsWith("redis-cluster-init:"));
  expect(blocks).toHaveLength(9 + 12);
  for (const block of blocks) expect(block).toContain("healthcheck:");

  const broken = path.join(tmp, "docker-compose.yml");
  writeFileSync(broken, readFileSync(path.join(REPO_ROOT, "docker-compose.yml"), "utf8").replace("stop_grace_period: 30s", "stop_grace_period: [30s]"));
  const refused = await run("docker-compose", ["-f", broken, "config", "-q"], COMPOSE_ENV);
  expect(refused.code).not.toBe(0);
  // Without the secrets it refuses to start at all.
  expect((await run("docker-compose", ["-f", "docker-compose.yml", "config", "-q"], { FS_JWT_SECRET: "", FS_ADMIN_TOKEN: "" })).code).not.toBe(0);
}, 30_000);

test("the compose profile `cluster` is the scaled-out shape: six Redis nodes joined with a replica each, two of every service on them", async () => {
  const services = await run("docker-compose", ["-f", "docker-compose.yml", "--profile", "cluster", "config", "--services"], COMPOSE_ENV);
  expect(services.code).toBe(0);
  const cluster = services.output.trim().split("\n").filter((s) => /^redis-node-|-cluster(-\d)?$|cluster-init/.test(s)).sort();
  expect(cluster).toEqual([
    "control-plane-cluster-1", "control-plane-cluster-2", "gateway-cluster-1", "gateway-cluster-2",
    "order-worker-cluster-1", "order-worker-cluster-2", "redis-cluster-init",
    ...[1, 2, 3, 4, 5, 6].map((n) => `redis-node-${n}`),
  ].sort());
  const resolved = (await run("docker-compose", ["-f", "docker-compose.yml", "--profile", "cluster", "config"], COMPOSE_ENV)).output;
  const block = (name: string) => resolved.split(/\n  (?=[a-z0-9-]+:\n)/).find((b) => b.startsWith(`${name}:`)) ?? "";
  for (const name of ["control-plane-cluster-1", "control-plane-cluster-2", "order-worker-cluster-1", "order-worker-cluster-2", "gateway-cluster-1", "gateway-cluster-2"]) {
    expect(block(name)).toContain("FS_REDIS_CLUSTER_NODES: redis-node-1:6379,");
  }
  expect(block("redis-cluster-init")).toMatch(/--cluster create redis-node-1:6379[^\n]*(\n[^\n]*)*--cluster-replicas 1/);
  expect(block("order-worker-cluster-1")).toContain("FS_WORKER_NAME: worker-1");
  expect(block("order-worker-cluster-2")).toContain("FS_WORKER_NAME: worker-2");
}, 30_000);

test("the control planes get the shop's identity provider, operators' sign-in and webhook settings from the shell or the env file (the shell first); unset ones stay unset", async () => {
  const envFile = path.join(tmp, "identity.env");
  writeFileSync(envFile, "FS_JWT_JWKS_URL=https://file.example/jwks\nFS_JWT_ISSUER=https://file.example\n");
  const args = ["-f", "docker-compose.yml", "--env-file", envFile, "--profile", "cluster", "config"];
  // make test exports .env.local's identity settings (empty where unset): this shell has only the test's.
  const passed = /^FS_(JWT|ADMIN_OIDC|ADMIN_COOKIE|WEBHOOK)_/;
  const inherited = Object.fromEntries(Object.keys(process.env).filter((k) => passed.test(k)).map((k) => [k, undefined]));
  const r = await run("docker-compose", args, {
    ...inherited,
    ...COMPOSE_ENV,
    FS_JWT_JWKS_URL: "https://idp.example/jwks",
    FS_JWT_LEEWAY_SECONDS: "5",
    FS_WEBHOOK_ALLOW_PRIVATE_URLS: "true",
  });
  expect(r.code).toBe(0);
  const block = (name: string) => r.output.split(/\n  (?=[a-z0-9-]+:\n)/).find((b) => b.startsWith(`${name}:`)) ?? "";
  for (const name of ["control-plane", "control-plane-cluster-1", "control-plane-cluster-2"]) {
    expect({ name, url: /FS_JWT_JWKS_URL: (.*)/.exec(block(name))?.[1], issuer: /FS_JWT_ISSUER: (.*)/.exec(block(name))?.[1] }).toEqual({
      name,
      url: "https://idp.example/jwks",
      issuer: "https://file.example",
    });
    expect(block(name)).toContain("FS_JWT_LEEWAY_SECONDS: '5'");
    // null: not passed, so the control plane's default (60 s) holds, not an empty value it refuses.
    expect(block(name)).toContain("FS_JWT_JWKS_REFRESH_SECONDS: null");
    // The operators' sign-in and webhook settings pass the same way.
    expect(block(name)).toContain('FS_WEBHOOK_ALLOW_PRIVATE_URLS: "true"');
    expect(block(name)).toContain("FS_ADMIN_OIDC_ISSUER: null");
  }
}, 30_000);

test("promtool accepts both Prometheus scrape configs, each loading the alert rules", async () => {
  const r = await run("promtool", ["check", "config", "ops/prometheus/prometheus.yml", "ops/prometheus/prometheus.compose.yml"]);
  expect(r.output).not.toContain("FAILED");
  expect(r.output.match(/SUCCESS: 1 rule files found/g)).toHaveLength(2);
  expect(r.output.match(/Checking ops\/prometheus\/alerts\.yml/g)).toHaveLength(2);
  expect(r.code).toBe(0);
  // Both scrape Redis and Postgres through their exporters: the local stack's on the ports
  // .env.example gives scripts/exporters.sh, compose's by service name.
  const env = readFileSync(path.join(REPO_ROOT, ".env.example"), "utf8");
  const port = (name: string) => new RegExp(`^${name}=(\\d+)$`, "m").exec(env)?.[1];
  const jobs = (file: string) => {
    const text = readFileSync(path.join(REPO_ROOT, "ops/prometheus", file), "utf8");
    return [...text.matchAll(/- job_name: ([\w-]+)\n\s+static_configs:\n\s+- targets: \["([^"]+)"\]/g)].map((m) => [m[1], m[2]]);
  };
  expect(jobs("prometheus.yml")).toEqual(expect.arrayContaining([
    ["redis", `127.0.0.1:${port("FS_REDIS_EXPORTER_PORT")}`],
    ["postgres", `127.0.0.1:${port("FS_POSTGRES_EXPORTER_PORT")}`],
  ]));
  expect(jobs("prometheus.compose.yml")).toEqual(expect.arrayContaining([["redis", "redis-exporter:9121"], ["postgres", "postgres-exporter:9187"]]));
});

const ALERTS = readFileSync(path.join(REPO_ROOT, "ops/prometheus/alerts.yml"), "utf8");
const ALERT_TESTS = readFileSync(path.join(REPO_ROOT, "ops/prometheus/alerts.test.yml"), "utf8");
/** Each `- alert:` block of alerts.yml, by name. */
const alertBlocks = new Map(ALERTS.split(/\n(?= {6}- alert: )/).slice(1).map((b) => [/- alert: (\w+)/.exec(b)![1]!, b]));

test("every alert rule has a for, a severity, a summary and a description, and the metrics it must watch", async () => {
  expect(alertBlocks.size).toBe(23);
  for (const [name, block] of alertBlocks) {
    expect({ name, for: /\n {8}for: \d+[smh]\n/.test(block) }).toEqual({ name, for: true });
    expect({ name, severity: /\n {10}severity: (critical|warning)\n/.exec(block)?.[1] }).toEqual({ name, severity: expect.any(String) });
    expect({ name, summary: /\n {10}summary: /.test(block), description: /\n {10}description: /.test(block) }).toEqual({
      name,
      summary: true,
      description: true,
    });
  }
  const exprs = [...alertBlocks.values()].map((b) => b.slice(b.indexOf("expr:"), b.indexOf("\n        for:"))).join("\n");
  for (const metric of [
    "fs_control_plane_reconcile_unit_drift",
    "fs_control_plane_reconcile_order_drift",
    "fs_control_plane_sale_repairs_total",
    "fs_control_plane_sale_held",
    "fs_worker_order_collisions_total",
    "fs_worker_dead_letters_total",
    "fs_worker_stream_lag_seconds",
    "fs_worker_statuses_waiting",
    'up{job="order-worker"}',
    "fs_process_restarts_total",
    "fs_gateway_clock_skew_seconds",
    "fs_webhook_endpoint_disabled",
    "fs_webhook_oldest_undelivered_seconds",
    "fs_control_plane_jwks_last_success_timestamp_seconds",
    'up{job="gateway"}',
    "fs_gateway_redis_errors_total",
    "fs_gateway_shared_dict_free_bytes",
    "fs_gateway_queue_admitted",
    "fs:purchase_errors:ratio_rate1h",
    "fs:purchase_slow:ratio_rate3d",
  ]) {
    expect(exprs).toContain(metric);
  }
  const r = await run("promtool", ["check", "rules", "ops/prometheus/alerts.yml"]);
  // The alerts and the SLOs' recording rules (two ratios over five windows, and over 30 days).
  expect(r.output).toContain(`SUCCESS: ${alertBlocks.size + 12} rules found`);
  expect(r.code).toBe(0);
});

test("promtool test rules: each alert fires in alerts.test.yml, and a rule that drifts from its test fails it", async () => {
  // Every alert is shown firing at least once (a case with an expected alert), not only silent.
  const firing = new Set([...ALERT_TESTS.matchAll(/alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels:/g)].map((m) => m[1]));
  expect([...firing].sort()).toEqual([...alertBlocks.keys()].sort());
  // …and silent at least once (before its `for:` has passed, or on a healthy series).
  const silent = new Set([...ALERT_TESTS.matchAll(/alertname: (\w+)\n\s+exp_alerts: \[\]/g)].map((m) => m[1]));
  expect([...silent].sort()).toEqual([...alertBlocks.keys()].sort());
  const ok = await run("promtool", ["test", "rules", "ops/prometheus/alerts.test.yml"]);
  expect(ok.output).toContain("SUCCESS");
  expect(ok.code).toBe(0);

  // The same tests against rules with a looser threshold and a shorter `for:` fail.
  for (const [from, to] of [
    ["fs_worker_stream_lag_seconds > 5", "fs_worker_stream_lag_seconds > 10"],
    ["fs_control_plane_sale_held == 1\n        for: 30s", "fs_control_plane_sale_held == 1\n        for: 0s"],
    ["fs_control_plane_jwks_last_success_timestamp_seconds > 120", "fs_control_plane_jwks_last_success_timestamp_seconds > 300"],
    // The page's short windows at 10x the workbook's multipliers (both pairs: either alone still fires).
    [
      "ratio_rate5m > 14.4 * 0.001)\n          or (fs:purchase_errors:ratio_rate6h > 6 * 0.001",
      "ratio_rate5m > 144 * 0.001)\n          or (fs:purchase_errors:ratio_rate6h > 60 * 0.001",
    ],
  ] as const) {
    expect(ALERTS).toContain(from);
    const dir = mkdtempSync(path.join(tmp, "alerts-"));
    writeFileSync(path.join(dir, "alerts.yml"), ALERTS.replace(from, to));
    copyFileSync(path.join(REPO_ROOT, "ops/prometheus/alerts.test.yml"), path.join(dir, "alerts.test.yml"));
    const broken = await run("promtool", ["test", "rules", path.join(dir, "alerts.test.yml")]);
    expect({ to, code: broken.code, failed: broken.output.includes("FAILED") }).toEqual({ to, code: 1, failed: true });
  }
}, 60_000);

test("amtool accepts the example Alertmanager route: critical alerts page, warnings and anything else open a ticket", async () => {
  const config = "ops/alertmanager/alertmanager.yml";
  const ok = await run("amtool", ["check-config", config]);
  expect(ok.output).toContain("SUCCESS");
  expect(ok.code).toBe(0);
  const receiver = async (...labels: string[]) => (await run("amtool", ["config", "routes", "test", `--config.file=${config}`, ...labels])).output.split("\n")[0];
  // Each alert as Prometheus sends it, by its own labels.
  for (const [name, block] of alertBlocks) {
    const severity = /\n {10}severity: (\w+)\n/.exec(block)![1]!;
    expect({ name, receiver: await receiver(`alertname=${name}`, `severity=${severity}`, "sale=demo") }).toEqual({
      name,
      receiver: severity === "critical" ? "page" : "ticket",
    });
  }
  expect(await receiver("alertname=Unlabelled")).toBe("ticket");

  // A route to a receiver that does not exist is refused.
  const broken = path.join(tmp, "alertmanager.yml");
  writeFileSync(broken, readFileSync(path.join(REPO_ROOT, config), "utf8").replace("receiver: page", "receiver: pager"));
  const refused = await run("amtool", ["check-config", broken]);
  expect(refused.output).toContain("FAILED");
  expect(refused.code).not.toBe(0);
}, 30_000);

test("systemd-analyze verify accepts the bare-machine units; each stops gracefully like the supervisor and restarts only a failure", async () => {
  const units = ["flash-sale-control-plane", "flash-sale-order-worker"].map((name) => path.join(REPO_ROOT, "ops/systemd", `${name}.service`));
  // verify exits 0 on an unknown key too: only its silence means a clean unit.
  const ok = await run("systemd-analyze", ["verify", ...units]);
  expect(ok.output).toBe("");
  expect(ok.code).toBe(0);
  for (const [unit, main] of units.map((u, i) => [u, ["control-plane", "order-worker"][i]!] as const)) {
    const text = readFileSync(unit, "utf8");
    const key = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(text)?.[1];
    expect({ unit: main, exec: key("ExecStart"), env: key("EnvironmentFile"), restart: key("Restart"), kill: key("KillSignal"), mode: key("KillMode") }).toEqual({
      unit: main,
      exec: `/usr/bin/node ${main}/build/main.js`,
      env: "/etc/flash-sale/flash-sale.env",
      restart: "on-failure",
      kill: "SIGTERM",
      mode: "mixed",
    });
    // Longer than the services' own 10 s to stop (node-common/src/shutdown.ts), as supervise.js's 20 s.
    expect(key("TimeoutStopSec")).toBe("20");
    expect(key("StartLimitIntervalSec")).toBe("0");
  }
  const broken = path.join(tmp, "flash-sale-control-plane.service");
  writeFileSync(broken, readFileSync(units[0]!, "utf8").replace("KillMode=mixed", "KillMode=gently"));
  expect((await run("systemd-analyze", ["verify", broken])).output).toMatch(/kill mode.*gently/);
}, 30_000);

/** A rules file recording each query: promtool parses every expression in it. */
function recordingRules(queries: string[]): string {
  const rules = queries.flatMap((expr, i) => [`      - record: dashboard:query_${i}`, `        expr: ${JSON.stringify(expr)}`]);
  return ["groups:", "  - name: dashboard", "    rules:", ...rules].join("\n") + "\n";
}

test("every query of the Grafana dashboard is valid PromQL (promtool check rules)", async () => {
  const queries = dashboardQueries();
  expect(queries.length).toBeGreaterThanOrEqual(15);
  // Grafana's variables, as Grafana substitutes them.
  const promql = queries.map((q) => q.replace(/\$__rate_interval/g, "1m").replace(/\$sale/g, "demo"));
  const file = path.join(tmp, "dashboard-rules.yml");
  writeFileSync(file, recordingRules(promql));
  const r = await run("promtool", ["check", "rules", file]);
  expect(r.output).toContain(`SUCCESS: ${queries.length} rules found`);
  expect(r.code).toBe(0);

  // A broken query is caught the same way.
  writeFileSync(file, recordingRules([`${promql[0]!})`, ...promql.slice(1)]));
  expect((await run("promtool", ["check", "rules", file])).code).not.toBe(0);
}, 20_000);

test("the dashboard's rows: the waiting room, and the error budget read from the SLOs' recording rules", () => {
  const panels = dashboardPanels();
  const rows = panels.filter((p) => p.type === "row");
  expect(rows.map((r) => r.title)).toEqual(["Waiting room", expect.stringMatching(/^Error budget /)]);
  /** The queries of the panels under a row, down to the next row. */
  const under = (row: (typeof panels)[number]) => {
    const next = rows.find((r) => r.gridPos.y > row.gridPos.y)?.gridPos.y ?? Infinity;
    return panels.filter((p) => p.type !== "row" && p.gridPos.y > row.gridPos.y && p.gridPos.y < next).flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  };
  const room = under(rows[0]!).join("\n");
  for (const name of ["fs_gateway_queue_length", "fs_gateway_queue_admitted", "fs_gateway_queue_admit_per_second", "fs_gateway_queue_passes_used", "fs_gateway_queue_passes_expired"]) {
    expect(room).toContain(`${name}{sale="$sale"}`);
  }
  // The budget: the burn rates the alerts fire on, over their windows, and what is left of 30 days.
  const budget = under(rows[1]!);
  const read = new Set(budget.flatMap((q) => [...q.matchAll(/\bfs:[a-z_]+:ratio_rate\w+/g)].map((m) => m[0])));
  const recorded = new Set([...ALERTS.matchAll(/- record: (\S+)/g)].map((m) => m[1]));
  expect([...read].filter((name) => !recorded.has(name))).toEqual([]);
  for (const sli of ["purchase_errors", "purchase_slow"]) {
    for (const window of ["5m", "1h", "6h", "3d", "30d"]) expect(read).toContain(`fs:${sli}:ratio_rate${window}`);
  }
  // Each ratio over its objective's budget (docs/slo.md: 0.1 % failed, 1 % over 250 ms).
  for (const q of budget) expect(q).toMatch(/fs:purchase_errors:\w+( \/ 0\.001)?$|fs:purchase_slow:\w+( \/ 0\.01)?$/);
});

test("every alert has a runbook in docs/runbooks/: what it means, how to confirm, what to do, how to tell it is over", () => {
  for (const [name, block] of alertBlocks) {
    expect({ name, runbook: /\n {10}runbook_url: (\S+)\n/.exec(block)?.[1] }).toEqual({ name, runbook: `docs/runbooks/${name}.md` });
    const file = path.join(REPO_ROOT, "docs/runbooks", `${name}.md`);
    expect({ name, exists: existsSync(file) }).toEqual({ name, exists: true });
    const text = readFileSync(file, "utf8");
    expect(text.startsWith(`# ${name}\n`)).toBe(true);
    for (const section of ["## What it means", "## How to confirm", "## What to do", "## How to tell it is over"]) {
      expect({ name, section, present: text.includes(`\n${section}\n\n`) }).toEqual({ name, section, present: true });
    }
  }
});
