/**
 * /admin/sales/<id>/report: how the sale went, from its report (Postgres only, so it is there
 * after the sale): units, revenue, orders by status and paid conversion, time to sell out, the
 * purchases' latency percentiles, the requests by outcome with their per-second chart, the waiting room, and the timeline. The CSV
 * of the per-second series is a link.
 */
import uPlot from "uplot";
import { api } from "./api";
import { el, render } from "./dom";
import { clockText, count, instantElement, money, TIME_ZONE } from "./format";
import { fitTicks } from "./live-chart";
import { salePath } from "./sale-record";
import type { SaleReport } from "./types";

const HEIGHT = 260;
/** Outcomes drawn apart; the rest are summed as "other" so the chart stays readable. */
const CHARTED = ["accepted", "sold_out", "not_started", "rate_limited", "ip_limited", "challenge_failed", "pass_required", "limit_reached"];
const COLORS = ["#1a7f37", "#cf222e", "#8250df", "#bf8700", "#9a6700", "#0969da", "#1b7c83", "#6e7781", "#57606a"];

function figure(id: string, label: string, value: string | Node): HTMLElement {
  return el("div", { class: "stat" }, el("span", { class: "stat-label", text: label }), el("strong", { id }, value));
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

/** The gateways' times, from a histogram of millisecond buckets: two decimals at most. */
function latencyText(ms: SaleReport["purchaseLatencyMs"]): string {
  if (ms === null) return "no purchase timed";
  const f = (x: number) => `${Number(x.toFixed(2))} ms`;
  return `p50 ${f(ms.p50)} · p95 ${f(ms.p95)} · p99 ${f(ms.p99)}`;
}

function requestsChart(container: HTMLElement, report: SaleReport): void {
  const seen = new Set(report.series.flatMap((s) => Object.keys(s.requests)));
  const outcomes = CHARTED.filter((o) => seen.has(o));
  const others = [...seen].filter((o) => !CHARTED.includes(o));
  const columns = [...outcomes, ...(others.length > 0 ? ["other"] : [])];
  const data: uPlot.AlignedData = [
    report.series.map((s) => Date.parse(s.at) / 1000),
    ...columns.map((o) => report.series.map((s) => (o === "other" ? others.reduce((n, x) => n + (s.requests[x] ?? 0), 0) : (s.requests[o] ?? 0)))),
  ];
  const fromZero = (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, Math.max(1, max * 1.1)];
  const plot = new uPlot(
    {
      width: Math.max(container.clientWidth, 200),
      height: HEIGHT,
      scales: { x: { time: true }, rps: { range: fromZero } },
      series: [
        { label: `Time (${TIME_ZONE})`, value: (_u, v) => (v === null ? "—" : clockText(v * 1000)) },
        ...columns.map((o, i) => ({ label: o, scale: "rps", stroke: COLORS[i % COLORS.length], width: 1.5, value: (_u: uPlot, v: number | null) => (v === null ? "—" : `${count(v)}/s`) })),
      ],
      axes: [
        { label: `Time (${TIME_ZONE})`, values: (_u, ticks) => ticks.map((s) => clockText(s * 1000)) },
        { scale: "rps", label: "Requests per second (req/s)", size: fitTicks },
      ],
    },
    data,
    container,
  );
  new ResizeObserver(() => plot.setSize({ width: Math.max(container.clientWidth, 200), height: HEIGHT })).observe(container);
}

export async function reportPage(saleId: string): Promise<void> {
  const path = salePath(saleId);
  const r = await api<SaleReport>("GET", `${path}/report`);
  const revenue = money(r.revenue, r.currency) ?? `${count(r.revenue)} ${r.currency} (minor units)`;
  const chartBox = el("div", { id: "report-chart", class: "chart" });
  const outcomes = Object.entries(r.requestsByOutcome).sort(([, a], [, b]) => b - a);
  render(
    el("p", { class: "crumbs" }, el("a", { href: "/admin", text: "All sales" }), " › ", el("a", { href: `/admin${path}`, text: r.name })),
    el("h1", { text: `Report: ${r.name}` }),
    el("nav", { class: "actions", "aria-label": "Downloads" }, el("a", { class: "button", id: "report-csv", href: `/admin/api${path}/report.csv`, download: "", text: "Per-second series (CSV)" })),
    el(
      "section",
      { "aria-labelledby": "sold-title" },
      el("h2", { id: "sold-title", text: "What sold" }),
      el(
        "div",
        { class: "stats" },
        figure("report-units", "Units sold", `${count(r.unitsSold)} of ${count(r.stock)}`),
        figure("report-revenue", "Revenue", revenue),
        figure("report-orders", "Orders", count(r.orders)),
        figure("report-paid", "Paid", r.paidConversion === null ? "no payment taken" : `${(r.paidConversion * 100).toFixed(1)} % (${count(r.ordersByStatus.paid)})`),
        figure("report-sellout", "Time to sell out", r.timeToSellOutSeconds === null ? "did not sell out" : duration(r.timeToSellOutSeconds)),
        figure("report-peak", "Peak", r.peakAt === null ? "no traffic kept" : `${count(r.peakRequestsPerSecond)} req/s at ${clockText(Date.parse(r.peakAt))}`),
        figure("report-latency", "Purchase answered in", latencyText(r.purchaseLatencyMs)),
      ),
      el(
        "table",
        { id: "report-statuses" },
        el("caption", { text: "Orders by status" }),
        el("tbody", {}, ...Object.entries(r.ordersByStatus).map(([status, n]) => el("tr", { "data-status": status }, el("th", { scope: "row", text: status }), el("td", { text: count(n) })))),
      ),
    ),
    el(
      "section",
      { "aria-labelledby": "requests-title" },
      el("h2", { id: "requests-title", text: "Who tried, and where they were turned away" }),
      el(
        "div",
        { class: "live-grid" },
        chartBox,
        el(
          "table",
          { id: "report-requests" },
          el("caption", { text: `${count(r.requests)} requests over ${count(r.series.length)} kept seconds` }),
          el("thead", {}, el("tr", {}, ...["Outcome", "Requests"].map((text) => el("th", { scope: "col", text })))),
          el("tbody", {}, ...outcomes.map(([outcome, n]) => el("tr", { "data-outcome": outcome }, el("th", { scope: "row", text: outcome }), el("td", { text: count(n) })))),
        ),
      ),
      ...(r.waitingRoom === null
        ? []
        : [
            el(
              "p",
              { id: "report-queue" },
              `Waiting room: ${count(r.waitingRoom.joined)} joined, ${count(r.waitingRoom.admitted)} admitted, ${count(r.waitingRoom.passesUsed)} passes used, ${count(r.waitingRoom.passesExpired)} expired.`,
            ),
          ]),
    ),
    el(
      "section",
      { "aria-labelledby": "timeline-title" },
      el("h2", { id: "timeline-title", text: "Timeline" }),
      el(
        "table",
        { id: "report-timeline", class: "cards" },
        el("thead", {}, el("tr", {}, ...["When", "What", "By"].map((text) => el("th", { scope: "col", text })))),
        el(
          "tbody",
          {},
          ...[
            { at: r.startsAt, what: "starts", by: "—" },
            ...(r.soldOutAt === null ? [] : [{ at: r.soldOutAt, what: "sold out", by: "—" }]),
            ...r.timeline.map((e) => ({ at: e.at, what: e.reason === undefined ? e.action : `${e.action} (${e.reason})`, by: e.actor })),
          ]
            .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
            .map((e) => el("tr", {}, el("td", {}, instantElement(e.at)), el("td", { text: e.what }), el("td", { text: e.by }))),
        ),
      ),
    ),
  );
  requestsChart(chartBox, r);
}
