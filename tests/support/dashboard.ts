/** The Grafana dashboard of ops/, read for its queries and the metrics they name. */
import { readFileSync } from "node:fs";
import path from "node:path";

const DASHBOARD = path.resolve(__dirname, "../../ops/grafana/dashboards/flash-sale.json");

export interface Panel {
  type: string;
  title: string;
  gridPos: { y: number };
  /** None on a row. */
  targets?: { expr: string }[];
}

/** The panels, top to bottom (a row's panels follow it). */
export function dashboardPanels(): Panel[] {
  const d = JSON.parse(readFileSync(DASHBOARD, "utf8")) as { panels: Panel[] };
  return d.panels;
}

/** Every panel query (PromQL with Grafana's $variables). */
export function dashboardQueries(): string[] {
  return dashboardPanels().flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

/** The metric families the queries read (a histogram's _bucket series by its family name). */
export function dashboardMetricNames(): string[] {
  const names = new Set<string>();
  for (const q of dashboardQueries()) {
    for (const m of q.matchAll(/\b((?:fs|nodejs|process)_[a-z0-9_]+)\b/g)) names.add(m[1]!.replace(/_bucket$/, ""));
  }
  return [...names].sort();
}
