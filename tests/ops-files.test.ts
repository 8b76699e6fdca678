/**
 * The files an SRE deploys with, checked by the tools that will read them: docker-compose.yml
 * by Debian's docker-compose (`config`), the Prometheus scrape configs and the Grafana
 * dashboard's queries by promtool. No Docker engine or Prometheus server runs here.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { REPO_ROOT } from "./support/stream-fixtures";
import { dashboardQueries } from "./support/dashboard";

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
  expect(services.output.trim().split("\n").sort()).toEqual(["control-plane", "gateway", "grafana", "order-worker", "postgres", "prometheus", "redis"]);

  // Every long-running service has a healthcheck.
  const resolved = await run("docker-compose", ["-f", "docker-compose.yml", "--profile", "observability", "config"], COMPOSE_ENV);
  const blocks = resolved.output.split(/\n  (?=[a-z-]+:\n)/).filter((b) => b.includes("image:"));
  expect(blocks).toHaveLength(7);
  for (const block of blocks) expect(block).toContain("healthcheck:");

  const broken = path.join(tmp, "docker-compose.yml");
  writeFileSync(broken, readFileSync(path.join(REPO_ROOT, "docker-compose.yml"), "utf8").replace("stop_grace_period: 30s", "stop_grace_period: [30s]"));
  const refused = await run("docker-compose", ["-f", broken, "config", "-q"], COMPOSE_ENV);
  expect(refused.code).not.toBe(0);
  // Without the secrets it refuses to start at all.
  expect((await run("docker-compose", ["-f", "docker-compose.yml", "config", "-q"], { FS_JWT_SECRET: "", FS_ADMIN_TOKEN: "" })).code).not.toBe(0);
}, 30_000);

test("promtool accepts both Prometheus scrape configs", async () => {
  const r = await run("promtool", ["check", "config", "ops/prometheus/prometheus.yml", "ops/prometheus/prometheus.compose.yml"]);
  expect(r.output).not.toContain("FAILED");
  expect(r.code).toBe(0);
});

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
