/**
 * A private Redis Cluster for one test file (by default six nodes: three primaries, a replica each), on
 * free ports, with AOF, joined by `redis-cli --cluster create` as scripts/cluster.sh does.
 * A short node timeout makes a killed primary's failover take seconds.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { createRedis, type Redis } from "@flash-sale/node-common";
import { freePort, waitForPort } from "./ports";
import { waitFor } from "./stream-fixtures";

const run = promisify(execFile);
export const NODE_TIMEOUT_MS = 2000;

export interface SlotRange {
  start: number;
  end: number;
  primary: number;
  replicas: number[];
}

export class PrivateCluster {
  private readonly children = new Map<number, ChildProcess>();

  private constructor(
    readonly ports: number[],
    private readonly dir: string,
  ) {}

  static async start(size = 6, replicasPerPrimary = 1): Promise<PrivateCluster> {
    const ports: number[] = [];
    while (ports.length < size) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    const cluster = new PrivateCluster(ports, mkdtempSync(path.join(tmpdir(), "fs-cluster-")));
    try {
      for (const port of ports) cluster.spawnNode(port);
      await Promise.all(ports.map((p) => waitForPort(p)));
      await run("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", String(replicasPerPrimary), "--cluster-yes"]);
      await cluster.waitUntilHealthy();
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
    return cluster;
  }

  private spawnNode(port: number): void {
    const child = spawn(
      "redis-server",
      [
        "--port", String(port), "--bind", "127.0.0.1", "--dir", this.dir,
        "--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`,
        "--cluster-node-timeout", String(NODE_TIMEOUT_MS),
        // The other shards keep selling while one has no primary.
        "--cluster-require-full-coverage", "no",
        "--appendonly", "yes", "--appendfilename", `appendonly-${port}.aof`, "--appenddirname", `aof-${port}`,
        "--appendfsync", "everysec", "--save", "",
      ],
      { stdio: "ignore" },
    );
    this.children.set(port, child);
  }

  /** FS_REDIS_CLUSTER_NODES for the services. */
  get nodes(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(",");
  }

  /** An FS_REDIS_URL the services accept (unused in cluster mode). */
  get url(): string {
    return `redis://127.0.0.1:${this.ports[0]}/0`;
  }

  client(name: string): Redis {
    return createRedis(this.url, name, this.nodes);
  }

  /** redis-cli against one node (no -c: no redirects followed). */
  async cli(port: number, ...args: string[]): Promise<string> {
    const { stdout } = await run("redis-cli", ["-p", String(port), ...args]);
    return stdout.trim();
  }

  private alive(): number[] {
    return this.ports.filter((p) => this.children.get(p)?.exitCode === null && this.children.get(p)?.signalCode === null);
  }

  /** CLUSTER SLOTS as a live node sees it. */
  async slotRanges(fromPort = this.alive()[0]!): Promise<SlotRange[]> {
    const { stdout } = await run("redis-cli", ["-p", String(fromPort), "--json", "cluster", "slots"]);
    const reply = JSON.parse(stdout) as [number, number, [string, number, string], ...[string, number, string][]][];
    return reply
      .map(([start, end, primary, ...replicas]) => ({ start, end, primary: primary[1], replicas: replicas.map((r) => r[1]) }))
      .sort((a, b) => a.start - b.start);
  }

  async primaryOf(slot: number, fromPort?: number): Promise<number | undefined> {
    return (await this.slotRanges(fromPort)).find((r) => slot >= r.start && slot <= r.end)?.primary;
  }

  async primaries(): Promise<number[]> {
    return [...new Set((await this.slotRanges()).map((r) => r.primary))];
  }

  /** Every live node sees every slot served and every replica in sync with its primary. */
  async waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor("the cluster to be healthy", async () => {
      for (const port of this.alive()) {
        const info = await this.cli(port, "cluster", "info");
        if (!info.includes("cluster_state:ok") || !info.includes("cluster_slots_ok:16384")) return false;
        const replication = await this.cli(port, "info", "replication");
        if (replication.includes("role:slave") && !replication.includes("master_link_status:up")) return false;
      }
      return true;
    }, timeoutMs);
  }

  /** SIGKILL: no goodbye to clients or to the cluster bus. */
  async kill(port: number): Promise<void> {
    const child = this.children.get(port);
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }

  /**
   * SIGKILLs `primary` and polls `replica` every 10 ms until it is a primary: when each
   * happened (epoch ms), to measure the clients against. Fails when not promoted within 30 s.
   */
  async failOver(primary: number, replica: number): Promise<{ killedAt: number; promotedAt: number }> {
    const probe = createRedis(`redis://127.0.0.1:${replica}/0`, "failover-probe");
    try {
      const killedAt = Date.now();
      await this.kill(primary);
      while ((await probe.role())[0] !== "master") {
        if (Date.now() - killedAt > 30_000) throw new Error(`replica :${replica} not promoted after 30 s`);
        await sleep(10);
      }
      return { killedAt, promotedAt: Date.now() };
    } finally {
      probe.disconnect();
    }
  }

  /** Starts a killed node again on its port, AOF and cluster config, as a supervisor would: a primary failed over rejoins as a replica. */
  async restart(port: number): Promise<void> {
    this.spawnNode(port);
    await waitForPort(port);
  }

  /** The node is a replica of `primary` with its link up (in sync). */
  async waitForReplicaOf(port: number, primary: number, timeoutMs = 30_000): Promise<void> {
    await waitFor(`:${port} a replica of :${primary}`, async () => {
      const info = await this.cli(port, "info", "replication").catch(() => "");
      return info.includes("role:slave") && info.includes(`master_port:${primary}`) && info.includes("master_link_status:up");
    }, timeoutMs);
  }

  async destroy(): Promise<void> {
    await Promise.all(this.ports.map((p) => this.kill(p)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
