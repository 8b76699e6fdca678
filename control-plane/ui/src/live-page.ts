/**
 * /admin/sales/<id>: the sale live. Its header and actions, its stats, its traffic (charted from the
 * sale's start: the seconds the control plane kept, then the page's readings) and its audit
 * log are panels that load and fail on their own, so that Pause and End stay at hand when the
 * stats or the gateways' metrics cannot be read. Only the actions its state allows are shown,
 * each confirmed by name; the page takes the changed sale from the action's answer.
 */
import { api, reason } from "./api";
import { fieldChanges } from "./audit-diff";
import { el, render } from "./dom";
import { clockText, count, instantElement, instantText, money } from "./format";
import { LiveChart } from "./live-chart";
import { Panel } from "./panel";
import { myRole } from "./role";
import { readSale, salePath } from "./sale-record";
import { allowedActions, shownState, type PageAction } from "./sale-state";
import { unitsReserved, type RecordedAuditEntry, type SaleReport, type SaleTraffic, type SaleView, type SaleWithStats } from "./types";
import { queuePanel } from "./queue-panel";

const REFRESH_MS = 1000;
const AUDIT_REFRESH_MS = 10_000;
/** A reading older than this is charted as unknown: its panel is failing. */
const FRESH_MS = 3000;

const LABELS: Record<PageAction, string> = { publish: "Publish", edit: "Edit", pause: "Pause", resume: "Resume", end: "End", delete: "Delete" };
const DONE: Record<Exclude<PageAction, "edit" | "delete">, string> = { publish: "Published", pause: "Paused", resume: "Resumed", end: "Ended" };

/** Requests per second by outcome between two readings of the gateways' counters. */
function rates(previous: { atMs: number; totals: Record<string, number> } | undefined, atMs: number, totals: Record<string, number>): Record<string, number> {
  if (previous === undefined || atMs <= previous.atMs) return {};
  const seconds = (atMs - previous.atMs) / 1000;
  return Object.fromEntries(Object.entries(totals).map(([outcome, n]) => [outcome, Math.max(0, n - (previous.totals[outcome] ?? 0)) / seconds]));
}

function stat(id: string, label: string): HTMLElement {
  return el("div", { class: "stat" }, el("span", { class: "stat-label", text: label }), el("span", { class: "stat-value", id, text: "…" }));
}

/** A stat shown only for some sales (its wrapper unhidden when it applies). */
function hiddenStat(wrapperId: string, id: string, label: string): HTMLElement {
  const wrapper = stat(id, label);
  wrapper.id = wrapperId;
  wrapper.hidden = true;
  return wrapper;
}

function setText(id: string, text: string): void {
  const node = document.getElementById(id);
  if (node !== null) node.textContent = text;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function shownValue(v: unknown): string {
  if (v === undefined) return "(none)";
  if (typeof v === "string" && ISO_INSTANT.test(v)) return instantText(v);
  return typeof v === "string" ? v : JSON.stringify(v);
}

function auditRow(e: RecordedAuditEntry): HTMLElement {
  const changes = fieldChanges(e.before, e.after);
  return el(
    "tr",
    {},
    el("td", { "data-label": "When" }, instantElement(e.at)),
    el("td", { "data-label": "Action", text: e.action }),
    el("td", { "data-label": "By", text: e.actor }),
    el(
      "td",
      { "data-label": "Changes" },
      changes.length === 0
        ? "no field changed"
        : el(
            "ul",
            { class: "changes" },
            ...changes.map((c) =>
              el("li", { "data-field": c.path }, el("code", { text: c.path }), ": ", el("del", { text: shownValue(c.before) }), " → ", el("ins", { text: shownValue(c.after) })),
            ),
          ),
    ),
  );
}

export async function livePage(saleId: string): Promise<void> {
  const path = salePath(saleId);
  let sale: SaleView | undefined;
  let stats: SaleWithStats["stats"] | undefined;
  let missing = false;
  let previous: { atMs: number; totals: Record<string, number> } | undefined;
  let lastRate: { atMs: number; perSecond: number } | undefined;
  let statsAtMs = 0;

  const title = el("h1", {}, el("span", { id: "sale-name", text: saleId }), " ", el("span", { class: "state", id: "sale-state" }));
  const facts = el("dl", { class: "facts", id: "sale-facts" });
  const actions = el("nav", { class: "actions", id: "actions", "aria-label": "Actions" });
  const notice = el("p", { id: "action-notice", role: "status" });
  const actionError = el("p", { id: "action-error", class: "error", role: "alert" });
  const requestsBody = el("tbody", { id: "requests-body" });
  const chartBox = el("div", { id: "chart", class: "chart" });
  const auditBody = el("tbody");

  /** What the header was last drawn from: redrawn only when it changes, so no click lands on a replaced button. */
  let drawn = "";
  const role = myRole();

  function drawHeader(): void {
    if (sale === undefined) return;
    const s = sale;
    const state = shownState(s, stats);
    const key = JSON.stringify([s, state]);
    if (key === drawn) return;
    drawn = key;
    setText("sale-name", s.name);
    setText("sale-state", state);
    document.getElementById("sale-state")!.dataset["state"] = state;
    const fact = (label: string, value: Node | string, id: string) => [el("dt", { text: label }), el("dd", { id }, value)];
    facts.replaceChildren(
      ...fact("Id", s.id, "sale-id"),
      ...fact("Price", money(s.price, s.currency) ?? `${s.price} ${s.currency}`, "sale-price"),
      ...fact("Starts", instantElement(s.startsAt), "sale-starts"),
      ...fact("Ends", instantElement(s.endsAt), "sale-ends"),
      ...fact("Deduction", s.deduction, "sale-deduction"),
      ...fact("Units per shopper", String(s.perUserLimit), "sale-per-user"),
    );
    const buttons = allowedActions(s, role).map((action) => {
      if (action === "edit") return el("a", { class: "button", id: "action-edit", href: `/admin${path}/edit`, text: LABELS.edit });
      const button = el("button", { type: "button", id: `action-${action}`, text: LABELS[action], ...(action === "delete" || action === "end" ? { class: "danger" } : {}) });
      button.addEventListener("click", () => void act(action, button));
      return button;
    });
    actions.replaceChildren(
      ...buttons,
      el("a", { class: "button", id: "orders-link", href: `/admin${path}/orders`, text: "Orders" }),
      el("a", { class: "button", id: "report-link", href: `/admin${path}/report`, text: "Report" }),
    );
  }

  /** Confirms by name, runs the action, and shows the sale as the API answered it. */
  async function act(action: Exclude<PageAction, "edit">, button: HTMLButtonElement): Promise<void> {
    if (sale === undefined) return;
    const { name, id } = sale;
    if (action === "delete") {
      const typed = prompt(`Delete the sale "${name}" (${id})? It cannot be undone. Type its name to confirm:`);
      if (typed === null) return;
      if (typed.trim() !== name) {
        actionError.textContent = "Not deleted: the name typed is not the sale's name.";
        return;
      }
    } else if (!confirm(`${LABELS[action]} the sale "${name}" (${id})?`)) {
      return;
    }
    actionError.textContent = "";
    button.disabled = true;
    try {
      if (action === "delete") {
        await api("DELETE", path);
        location.assign(`/admin?deleted=${encodeURIComponent(id)}`);
        return;
      }
      const answer = await api<SaleView | { version: number }>("POST", `${path}/${action}`);
      // Publish answers its version only: the sale is read again.
      sale = "state" in answer ? answer : (await readSale(saleId))?.sale ?? sale;
      notice.textContent = `${DONE[action]} at ${clockText(Date.now())}.`;
      drawHeader();
      void statsPanel.refresh();
      void auditPanel.refresh();
    } catch (err) {
      actionError.textContent = `${LABELS[action]} failed: ${reason(err)}.`;
    } finally {
      button.disabled = false;
    }
  }

  const headerPanel = new Panel({
    id: "header",
    what: "the sale",
    load: async () => {
      const read = await readSale(saleId);
      if (read === undefined) {
        missing = true;
        render(el("h1", { text: "No such sale" }), el("p", { id: "missing", text: `There is no sale with the id "${saleId}".` }), el("a", { href: "/admin", text: "All sales" }));
        return;
      }
      sale = read.sale;
      stats = read.stats ?? stats;
      drawHeader();
    },
  });

  const statsPanel = new Panel({
    id: "stats",
    what: "the live stats",
    refreshMs: REFRESH_MS,
    load: async () => {
      const { stats: fresh, ...freshSale } = await api<SaleWithStats>("GET", path);
      // A read that left before an action's answer came back must not undo what it showed.
      if (sale === undefined || freshSale.revision >= sale.revision) sale = freshSale;
      stats = fresh;
      statsAtMs = Date.now();
      drawHeader();
      setText("units-total", count(freshSale.stock));
      setText("units-left", fresh.unitsLeft === null ? "not loaded" : count(fresh.unitsLeft));
      const perBucket = document.getElementById("units-per-bucket");
      if (perBucket !== null && fresh.bucketUnitsLeft !== undefined) {
        perBucket.hidden = false;
        setText("bucket-units-left", fresh.bucketUnitsLeft.map((n) => (n === null ? "not loaded" : count(n))).join(" · "));
      }
      setText("units-reserved", count(unitsReserved(freshSale, fresh)));
      setText("units-sold", count(fresh.unitsSold));
      setText("orders-persisted", count(fresh.ordersPersisted));
      setText("unit-drift", fresh.reconciliation === null ? "not checked yet" : String(fresh.reconciliation.unitDrift));
      setText("order-drift", fresh.reconciliation?.orderDrift == null ? "not judged" : String(fresh.reconciliation.orderDrift));
      if (freshSale.waitingRoom !== undefined) {
        queue.element.hidden = false;
        queue.update({ ...freshSale, stats: fresh }, statsAtMs);
      }
    },
  });

  const trafficPanel = new Panel({
    id: "traffic",
    what: "the traffic",
    refreshMs: REFRESH_MS,
    load: async () => {
      const traffic = await api<SaleTraffic>("GET", `${path}/traffic`);
      const atMs = Date.now();
      setText("queue-lag", `${count(traffic.ordersQueued)} orders`);
      if (traffic.requestsByOutcome === null) {
        previous = undefined;
        requestsBody.replaceChildren(
          el("tr", {}, el("td", { class: "error", id: "requests-unknown", colspan: "3", text: "No gateway's metrics could be read: requests per second are unknown. Retrying every second." })),
        );
        return;
      }
      const totals = traffic.requestsByOutcome;
      const perSecond = rates(previous, atMs, totals);
      if (previous !== undefined) lastRate = { atMs, perSecond: Object.values(perSecond).reduce((a, b) => a + b, 0) };
      previous = { atMs, totals };
      requestsBody.replaceChildren(
        ...Object.keys(totals)
          .sort()
          .map((outcome) =>
            el(
              "tr",
              { "data-outcome": outcome },
              el("th", { scope: "row", text: outcome }),
              el("td", { id: `rps-${outcome}`, text: `${(perSecond[outcome] ?? 0).toFixed(1)}/s` }),
              el("td", { text: `${count(totals[outcome]!)} in all` }),
            ),
          ),
        el("tr", {}, el("td", { colspan: "3", class: "muted", text: `${traffic.gateways} gateway${traffic.gateways === 1 ? "" : "s"} counted` })),
      );
    },
  });

  const auditPanel = new Panel({
    id: "audit",
    what: "the audit log",
    refreshMs: AUDIT_REFRESH_MS,
    load: async () => {
      const { entries } = await api<{ entries: RecordedAuditEntry[] }>("GET", `${path}/audit`);
      // Newest first: the last change is what an operator looks for.
      auditBody.replaceChildren(...entries.slice().reverse().map(auditRow));
    },
  });
  // Shown once the sale turns out to have a waiting room.
  const queue = queuePanel();
  queue.element.hidden = true;

  render(
    el("p", { class: "crumbs" }, el("a", { href: "/admin", text: "All sales" })),
    title,
    headerPanel.status,
    facts,
    actions,
    notice,
    actionError,
    el(
      "section",
      { "aria-labelledby": "stats-title" },
      el("h2", { id: "stats-title", text: "Units and orders" }),
      statsPanel.status,
      el(
        "div",
        { class: "stats" },
        stat("units-total", "Stock"),
        stat("units-left", "Units left"),
        hiddenStat("units-per-bucket", "bucket-units-left", "Left per stock bucket"),
        stat("units-reserved", "Reserved"),
        stat("units-sold", "Sold"),
        stat("orders-persisted", "Orders in Postgres"),
        stat("queue-lag", "Order queue lag"),
        stat("unit-drift", "Unit drift"),
        stat("order-drift", "Order drift"),
      ),
    ),
    queue.element,
    el(
      "section",
      { class: "live", "aria-labelledby": "traffic-title" },
      el("h2", { id: "traffic-title", text: "Traffic over the sale" }),
      trafficPanel.status,
      el(
        "div",
        { class: "live-grid" },
        chartBox,
        el("table", { id: "requests" }, el("caption", { text: "Requests by outcome" }), el("thead", {}, el("tr", {}, ...["Outcome", "Now", "Since start"].map((text) => el("th", { scope: "col", text })))), requestsBody),
      ),
    ),
    el(
      "section",
      { "aria-labelledby": "audit-title" },
      el("h2", { id: "audit-title", text: "Audit log" }),
      auditPanel.status,
      el("table", { id: "audit", class: "cards" }, el("thead", {}, el("tr", {}, ...["When", "Action", "By", "Changes"].map((text) => el("th", { scope: "col", text })))), auditBody),
    ),
  );

  await headerPanel.refresh();
  if (missing) return;
  const chart = new LiveChart(chartBox);
  // The seconds the control plane kept before the page opened; the chart starts empty without them.
  api<SaleReport>("GET", `${path}/report`).then(
    (report) => chart.history(report.series.map((s) => ({ atMs: Date.parse(s.at), requests: s.total }))),
    (err: unknown) => console.warn(`the sale's kept traffic could not be read: ${reason(err)}`),
  );
  setInterval(() => {
    const now = Date.now();
    const fresh = (atMs: number) => now - atMs < FRESH_MS;
    chart.push(now, stats !== undefined && fresh(statsAtMs) ? stats.unitsSold : null, lastRate !== undefined && fresh(lastRate.atMs) ? lastRate.perSecond : null);
  }, REFRESH_MS);
  await Promise.all([statsPanel.refresh(), trafficPanel.refresh(), auditPanel.refresh()]);
}
