/**
 * /admin/sales/<id>: the sale live (polled every second): units, orders, queue lag, requests
 * per second by outcome, reconciliation drift, a chart of the last minutes; the actions, each
 * confirmed by name; the audit trail.
 */
import { api, ApiFailure } from "./api";
import { lineChart } from "./chart";
import { el, render } from "./dom";
import { queuePanel } from "./queue-panel";
import { unitsReserved, type RecordedAuditEntry, type SaleTraffic, type SaleWithStats } from "./types";

const REFRESH_MS = 1000;
/** Samples the chart keeps: five minutes at one a second. */
const HISTORY = 300;
const ACTIONS = ["publish", "pause", "resume", "end"] as const;

interface Sample {
  atMs: number;
  unitsSold: number;
  requestsPerSecond: number;
}

function stat(id: string, label: string): HTMLElement {
  return el("div", { class: "stat" }, el("span", { class: "stat-label", text: label }), el("span", { class: "stat-value", id, text: "…" }));
}

function setText(id: string, text: string): void {
  const node = document.getElementById(id);
  if (node !== null) node.textContent = text;
}

/** Requests per second by outcome between two readings of the gateway's counters. */
function rates(previous: { atMs: number; totals: Record<string, number> } | undefined, atMs: number, totals: Record<string, number>): Record<string, number> {
  if (previous === undefined || atMs <= previous.atMs) return {};
  const seconds = (atMs - previous.atMs) / 1000;
  return Object.fromEntries(Object.entries(totals).map(([outcome, n]) => [outcome, Math.max(0, n - (previous.totals[outcome] ?? 0)) / seconds]));
}

function auditTable(entries: RecordedAuditEntry[]): HTMLElement {
  return el(
    "table",
    { id: "audit" },
    el("thead", {}, el("tr", {}, ...["When", "Action", "By", "Change"].map((text) => el("th", { text })))),
    el(
      "tbody",
      {},
      ...entries.map((e) =>
        el("tr", {}, el("td", { text: e.at }), el("td", { text: e.action }), el("td", { text: e.actor }), el("td", {}, el("code", { text: JSON.stringify(e.after) }))),
      ),
    ),
  );
}

export async function livePage(saleId: string): Promise<void> {
  const path = `/${encodeURIComponent(saleId)}`;
  let sale = await api<SaleWithStats>("GET", path);
  const history: Sample[] = [];
  let previous: { atMs: number; totals: Record<string, number> } | undefined;

  const actionButtons = ACTIONS.map((action) => {
    const button = el("button", { type: "button", id: `action-${action}`, text: action[0]!.toUpperCase() + action.slice(1) });
    button.addEventListener("click", () => {
      if (!confirm(`${button.textContent} the sale "${sale.name}" (${sale.id})?`)) return;
      api("POST", `${path}/${action}`).then(
        () => Promise.all([refresh(), refreshAudit()]),
        (err: unknown) => setText("action-error", err instanceof ApiFailure ? err.message : String(err)),
      );
    });
    return button;
  });
  const auditSection = el("section", {}, el("h2", { text: "Audit log" }));
  const chartBox = el("div", { id: "chart" });
  const queue = sale.waitingRoom === undefined ? undefined : queuePanel();

  render(
    el("h1", {}, el("span", { id: "sale-name", text: sale.name }), " ", el("span", { class: "state", id: "sale-state", text: sale.state })),
    el("p", { text: `${sale.id} · ${sale.startsAt} → ${sale.endsAt} · ${sale.deduction}` }),
    el("nav", { class: "actions" }, ...actionButtons, el("a", { href: `/admin/sales${path}/edit`, text: "Edit" })),
    el("p", { id: "action-error", class: "error", role: "alert" }),
    el(
      "section",
      { class: "stats" },
      stat("units-total", "Stock"),
      stat("units-left", "Units left"),
      stat("units-reserved", "Reserved"),
      stat("units-sold", "Sold"),
      stat("orders-persisted", "Orders in Postgres"),
      stat("queue-lag", "Order queue lag"),
      stat("unit-drift", "Unit drift"),
      stat("order-drift", "Order drift"),
    ),
    ...(queue === undefined ? [] : [queue.element]),
    el("h2", { text: "Requests per second by outcome" }),
    el("table", { id: "requests" }, el("tbody", { id: "requests-body" })),
    el("h2", { text: "Last minutes: units sold (green), requests/s (blue)" }),
    chartBox,
    auditSection,
  );

  async function refresh(): Promise<void> {
    const [fresh, traffic] = await Promise.all([api<SaleWithStats>("GET", path), api<SaleTraffic>("GET", `${path}/traffic`)]);
    sale = fresh;
    const atMs = Date.now();
    const { stats } = sale;
    setText("sale-state", sale.state);
    setText("units-total", String(sale.stock));
    setText("units-left", stats.unitsLeft === null ? "not loaded" : String(stats.unitsLeft));
    setText("units-reserved", String(unitsReserved(sale)));
    setText("units-sold", String(stats.unitsSold));
    setText("orders-persisted", String(stats.ordersPersisted));
    setText("queue-lag", `${traffic.ordersQueued} orders`);
    setText("unit-drift", stats.reconciliation === null ? "not checked yet" : String(stats.reconciliation.unitDrift));
    setText("order-drift", stats.reconciliation?.orderDrift == null ? "not judged" : String(stats.reconciliation.orderDrift));
    queue?.update(sale, atMs);

    const totals = traffic.requestsByOutcome ?? {};
    const perSecond = rates(previous, atMs, totals);
    previous = { atMs, totals };
    const rows = Object.keys(totals).sort().map((outcome) =>
      el("tr", { "data-outcome": outcome }, el("th", { text: outcome }), el("td", { id: `rps-${outcome}`, text: (perSecond[outcome] ?? 0).toFixed(1) }), el("td", { text: `${totals[outcome]} in all` })),
    );
    document.getElementById("requests-body")?.replaceChildren(
      ...(traffic.requestsByOutcome === null ? [el("tr", {}, el("td", { text: "gateway metrics unreachable" }))] : rows),
    );

    history.push({ atMs, unitsSold: stats.unitsSold, requestsPerSecond: Object.values(perSecond).reduce((a, b) => a + b, 0) });
    if (history.length > HISTORY) history.shift();
    chartBox.replaceChildren(
      lineChart("Units sold and requests per second, last minutes", [
        { name: "units sold", className: "line-sold", values: history.map((h) => h.unitsSold) },
        { name: "requests/s", className: "line-requests", values: history.map((h) => h.requestsPerSecond) },
      ]),
    );
  }

  async function refreshAudit(): Promise<void> {
    const { entries } = await api<{ entries: RecordedAuditEntry[] }>("GET", `${path}/audit`);
    auditSection.replaceChildren(el("h2", { text: "Audit log" }), auditTable(entries));
  }

  await Promise.all([refresh(), refreshAudit()]);
  // One refresh at a time: the next waits for the last, so a slow answer never piles up.
  const loop = async (): Promise<void> => {
    await refresh().catch((err: unknown) => setText("action-error", `Refresh failed: ${String(err)}`));
    setTimeout(() => void loop(), REFRESH_MS);
  };
  setTimeout(() => void loop(), REFRESH_MS);
}
