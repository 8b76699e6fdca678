/**
 * deploy/kubernetes: every overlay rendered by `kubectl kustomize`, every object validated offline
 * against the Kubernetes API schemas (kubernetes-models; prometheus-operator's kinds too), and
 * the project's own rules: probes, requests, pinned images, a disruption budget per workload,
 * the gateway's readiness and drain, secrets only by reference, and the admin API and every
 * /metrics out of the shoppers' reach. No cluster runs here (deploy/kubernetes/README.md).
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { REPO_ROOT } from "./support/stream-fixtures";
import { runTool } from "./support/run-tool";

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped JSON */
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any; data?: any };

const OVERLAYS = ["try", "production"] as const;
const rendered = new Map<string, K8sObject[]>();

async function kustomize(overlay: string): Promise<K8sObject[]> {
  const r = await runTool("kubectl", ["kustomize", `deploy/kubernetes/overlays/${overlay}`]);
  if (r.code !== 0) throw new Error(`kubectl kustomize ${overlay}: ${r.stderr}`);
  return YAML.parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject);
}

/** [{kind, name, error}] from tests/support/validate-k8s.mjs (kubernetes-models is ESM only). */
function validate(objects: unknown[]): Promise<{ kind: string; name: string; error: string | null }[]> {
  return new Promise((resolve, reject) => {
    const child = execFile("node", [path.join(__dirname, "support/validate-k8s.mjs")], { cwd: REPO_ROOT, encoding: "utf8" }, (err, stdout, stderr) =>
      err !== null ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    );
    child.stdin!.end(JSON.stringify(objects));
  });
}

beforeAll(async () => {
  for (const overlay of OVERLAYS) rendered.set(overlay, await kustomize(overlay));
}, 60_000);

const of = (overlay: string, kind: string) => rendered.get(overlay)!.filter((o) => o.kind === kind);
const named = (overlay: string, kind: string, name: string) => {
  const found = of(overlay, kind).find((o) => o.metadata.name === name);
  if (found === undefined) throw new Error(`${overlay}: no ${kind} ${name}`);
  return found;
};
const WORKLOADS = ["Deployment", "StatefulSet", "Job"];
const podSpecs = (overlay: string) => rendered.get(overlay)!.filter((o) => WORKLOADS.includes(o.kind)).map((o) => ({ o, pod: o.spec.template.spec }));
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

test("kubectl kustomize renders each overlay, and every object is valid against the Kubernetes schemas", async () => {
  for (const overlay of OVERLAYS) {
    const objects = rendered.get(overlay)!;
    expect(objects.length).toBeGreaterThan(20);
    const results = await validate(objects);
    expect(results.filter((r) => r.error !== null)).toEqual([]);
    expect(results).toHaveLength(objects.length);
    // Everything but the namespace lives in it.
    for (const o of objects.filter((o) => o.kind !== "Namespace")) expect({ o: `${o.kind}/${o.metadata.name}`, ns: o.metadata.namespace }).toEqual({ o: `${o.kind}/${o.metadata.name}`, ns: "flash-sale" });
  }
  // The validator refuses what the API server would (so the check above can fail).
  const broken = structuredClone(named("try", "Deployment", "gateway"));
  broken.spec.replicas = "two";
  expect((await validate([broken]))[0]!.error).toContain("replicas must be integer");
  expect((await validate([{ apiVersion: "apps/v1", kind: "Deploymant", metadata: { name: "x" } }]))[0]!.error).toContain("no schema");
}, 60_000);

test("each overlay's shape: try runs Redis, Postgres and a demo sale inside; production points at a Redis Cluster", () => {
  const kinds = (overlay: string, kind: string) => of(overlay, kind).map((o) => o.metadata.name).sort();
  expect(kinds("try", "StatefulSet")).toEqual(["order-worker", "postgres", "redis"]);
  expect(kinds("try", "Job")).toEqual(["demo-sale", "migrate"]);
  expect(kinds("production", "StatefulSet")).toEqual(["order-worker"]);
  expect(kinds("production", "Job")).toEqual(["migrate"]);
  for (const overlay of OVERLAYS) {
    expect(kinds(overlay, "Deployment")).toEqual(["control-plane", "gateway"]);
    expect(kinds(overlay, "HorizontalPodAutoscaler")).toEqual(["gateway"]);
    expect(kinds(overlay, "ServiceMonitor")).toEqual(["flash-sale"]);
    expect(kinds(overlay, "PrometheusRule")).toEqual(["flash-sale"]);
  }
  const backends = (overlay: string) => of(overlay, "ConfigMap").find((c) => c.metadata.name.startsWith("flash-sale-backends-"))!.data;
  expect(backends("try")).toEqual({ FS_REDIS_URL: "redis://redis:6379/0" });
  expect(Object.keys(backends("production"))).toEqual(["FS_REDIS_CLUSTER_NODES"]);
  // N control planes (their jobs' leases) and N workers in one group, in production.
  expect(named("production", "Deployment", "control-plane").spec.replicas).toBeGreaterThanOrEqual(2);
  expect(named("production", "StatefulSet", "order-worker").spec.replicas).toBeGreaterThanOrEqual(2);
});

test("every container: a pinned image (a tag, never latest), CPU and memory requests, probes on the long-running ones; a disruption budget per workload", () => {
  for (const overlay of OVERLAYS) {
    for (const { o, pod } of podSpecs(overlay)) {
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        const where = `${overlay} ${o.kind}/${o.metadata.name} ${c.name}`;
        expect({ where, image: /^[^:@]+(:\d[\w.-]*|:v\d[\w.-]*)$/.test(c.image) }).toEqual({ where, image: true });
        expect({ where, requests: Object.keys(c.resources?.requests ?? {}).sort() }).toEqual({ where, requests: ["cpu", "memory"] });
        expect({ where, memoryLimit: c.resources?.limits?.memory !== undefined }).toEqual({ where, memoryLimit: true });
        if (o.kind !== "Job") expect({ where, readiness: c.readinessProbe !== undefined, liveness: c.livenessProbe !== undefined }).toEqual({ where, readiness: true, liveness: true });
      }
      if (o.kind === "Job") continue;
      const budgets = of(overlay, "PodDisruptionBudget").filter((b) => matches(b.spec.selector.matchLabels, pod === undefined ? {} : o.spec.template.metadata.labels));
      expect({ o: o.metadata.name, budgets: budgets.length }).toEqual({ o: o.metadata.name, budgets: 1 });
    }
  }
});

test("the gateway: one nginx worker per CPU it is given, ready once its configs are synced, a graceful drain, scaled on CPU", () => {
  const knobs = readFileSync(path.join(REPO_ROOT, "nginx-conf/knobs.conf"), "utf8");
  const shutdownTimeout = Number(/\nworker_shutdown_timeout = (\d+)\n/.exec(knobs)![1]);
  for (const overlay of OVERLAYS) {
    const gw = named(overlay, "Deployment", "gateway");
    const pod = gw.spec.template.spec;
    const c = pod.containers[0];
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
    expect(env.FS_GATEWAY_CPUS.valueFrom.resourceFieldRef).toEqual({ resource: "limits.cpu", divisor: "1" });
    // Guaranteed: the CPUs nginx starts workers for are the CPUs it gets.
    expect(c.resources.requests.cpu).toBe(c.resources.limits.cpu);
    expect(c.readinessProbe.httpGet).toEqual({ path: "/ready", port: "metrics" });
    expect(c.ports).toContainEqual({ name: "metrics", containerPort: 9145 });
    expect(c.lifecycle.preStop.exec.command.join(" ")).toMatch(/sleep (\d+);.*-s quit/s);
    const preStopSleep = Number(/sleep (\d+);/.exec(c.lifecycle.preStop.exec.command.join(" "))![1]);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStopSleep + shutdownTimeout);
    expect(gw.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);

    const config = of(overlay, "ConfigMap").find((m) => m.metadata.name === pod.volumes.find((v: any) => v.name === "config").configMap.name)!;
    expect(config.data["nginx.conf"]).toContain(`\nworker_shutdown_timeout ${shutdownTimeout}s;\n`);
    expect(config.data["nginx.conf"]).toContain("location = /ready");
    expect(config.data["gateway-entrypoint.sh"]).toContain('s/^worker_processes .*/worker_processes ${FS_GATEWAY_CPUS:-1};/');
    expect(config.data["nginx.conf"]).toMatch(/\nworker_processes \w+;\n/);

    const hpa = named(overlay, "HorizontalPodAutoscaler", "gateway");
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "gateway" });
    expect(hpa.spec.metrics).toEqual([{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: expect.any(Number) } } }]);
  }
});

test("the admin API and every /metrics are out of the shoppers' reach: only the gateway's public port is routed or open to all", () => {
  for (const overlay of OVERLAYS) {
    for (const svc of of(overlay, "Service")) expect({ svc: svc.metadata.name, type: svc.spec.type ?? "ClusterIP" }).toEqual({ svc: svc.metadata.name, type: "ClusterIP" });
    const backends = of(overlay, "Ingress").flatMap((i) => i.spec.rules.flatMap((r: any) => r.http.paths.map((p: any) => p.backend.service)));
    expect(backends).toEqual([{ name: "gateway", port: { name: "http" } }]);
    expect(named(overlay, "Service", "gateway").spec.ports).toEqual([{ name: "http", port: 8080, targetPort: "http" }]);

    const policies = of(overlay, "NetworkPolicy");
    // Every pod is covered by the namespace's default deny.
    expect(named(overlay, "NetworkPolicy", "default-deny-ingress").spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
    // A rule with no `from` admits anyone: only the gateway's public port has one.
    const openToAll = policies.flatMap((p) => (p.spec.ingress ?? []).filter((r: any) => r.from === undefined).map((r: any) => [p.metadata.name, r.ports]));
    expect(openToAll).toEqual([["gateway", [{ port: "http" }]]]);
    for (const p of policies) {
      for (const rule of p.spec.ingress ?? []) {
        for (const peer of rule.from ?? []) {
          const where = `${overlay} ${p.metadata.name}`;
          // No address ranges, and no selector that matches every pod or namespace.
          expect({ where, ipBlock: peer.ipBlock }).toEqual({ where, ipBlock: undefined });
          for (const sel of [peer.podSelector, peer.namespaceSelector].filter((s) => s !== undefined)) {
            expect({ where, empty: Object.keys(sel).length === 0 }).toEqual({ where, empty: false });
          }
        }
      }
    }
    const admin = named(overlay, "NetworkPolicy", "control-plane").spec.ingress;
    expect(admin.flatMap((r: any) => r.ports)).toEqual([{ port: "admin" }]);
  }
});

test("secrets only by reference: none rendered, each key one create-secrets.sh gives", async () => {
  const script = readFileSync(path.join(REPO_ROOT, "deploy/kubernetes/create-secrets.sh"), "utf8");
  for (const overlay of OVERLAYS) {
    expect(of(overlay, "Secret")).toEqual([]);
    const refs = podSpecs(overlay).flatMap(({ pod }) =>
      pod.containers.flatMap((c: any) => (c.env ?? []).map((e: any) => e.valueFrom?.secretKeyRef).filter((r: any) => r !== undefined)),
    );
    expect(refs.length).toBeGreaterThan(5);
    for (const ref of refs) {
      expect(ref.name).toBe("flash-sale-secrets");
      expect(script).toContain(`  ${ref.key}: $(b64 `);
    }
  }
  const printed = await runTool("bash", ["deploy/kubernetes/create-secrets.sh", "try"]);
  expect(printed.code).toBe(0);
  const [ns, secret] = YAML.parseAllDocuments(printed.stdout).map((d) => d.toJS());
  expect((await validate([ns, secret])).map((r) => r.error)).toEqual([null, null]);
  expect(Object.keys(secret.data).sort()).toEqual(["admin-token", "database-url", "jwt-secret", "payment-webhook-secret", "pg-password"]);
  expect(Buffer.from(secret.data["database-url"], "base64").toString()).toMatch(/^postgres:\/\/flashsale:\w{32}@postgres:5432\/flashsale$/);
  // Production takes the shop's values and refuses to print without them.
  expect((await runTool("bash", ["deploy/kubernetes/create-secrets.sh", "production"], { FS_DATABASE_URL: "", FS_JWT_SECRET: "", FS_ADMIN_TOKEN: "" })).code).not.toBe(0);
}, 20_000);

test("generated files are current: the gateway's rendered config and the PrometheusRule holding alerts.yml", async () => {
  const check = await runTool("node", ["scripts/k8s-generate.js", "--check"]);
  expect(check.stderr).toBe("");
  expect(check.code).toBe(0);
  const alerts = YAML.parse(readFileSync(path.join(REPO_ROOT, "ops/prometheus/alerts.yml"), "utf8"));
  for (const overlay of OVERLAYS) expect(named(overlay, "PrometheusRule", "flash-sale").spec.groups).toEqual(alerts.groups);
  // The scrape's job labels are those the alerts name (up{job="gateway"}).
  const monitor = named("try", "ServiceMonitor", "flash-sale");
  expect(monitor.spec.endpoints[0].relabelings).toEqual([{ sourceLabels: ["__meta_kubernetes_service_name"], regex: "(.+)-metrics", targetLabel: "job", replacement: "$1" }]);
  const scraped = of("try", "Service").filter((s) => s.metadata.labels?.["flash-sale/metrics"] === "true").map((s) => s.metadata.name.replace(/-metrics$/, "")).sort();
  expect(scraped).toEqual(["control-plane", "gateway", "order-worker", "postgres", "redis"]);
}, 20_000);
