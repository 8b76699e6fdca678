/**
 * /admin: every sale with its state, times and price (from Postgres) and its live counts (all
 * sales' stats in one request); each part loads and fails on its own, as does each sale's stats.
 * Filtered by name or id and by state; ended sales are archived: hidden unless asked for.
 */
import { api } from "./api";
import { el, render } from "./dom";
import { count, instantElement, money } from "./format";
import { Panel } from "./panel";
import { shownState, type ShownState } from "./sale-state";
import { unitsReserved, type SaleStatsEntry, type SaleView } from "./types";

const LIST_REFRESH_MS = 10_000;
const STATS_REFRESH_MS = 5000;
const STATES: ShownState[] = ["draft", "scheduled", "active", "sold out", "paused", "ended"];
const COLUMNS = ["Sale", "State", "Starts", "Ends", "Price", "Stock", "Left", "Reserved", "Sold", "Orders in Postgres"];
const STATS_COLUMNS = COLUMNS.slice(-4);

function statsCells(sale: SaleView, entry: SaleStatsEntry | undefined): HTMLElement[] {
  if (entry === undefined) return STATS_COLUMNS.map((label) => el("td", { "data-label": label, class: "muted", text: "—" }));
  if ("error" in entry) {
    return [el("td", { "data-label": "Live stats", colspan: String(STATS_COLUMNS.length), class: "error stats-error", text: entry.message })];
  }
  const { stats } = entry;
  return [
    stats.unitsLeft === null ? "not loaded" : count(stats.unitsLeft),
    count(unitsReserved(sale, stats)),
    count(stats.unitsSold),
    count(stats.ordersPersisted),
  ].map((text, i) => el("td", { "data-label": STATS_COLUMNS[i]!, class: "number", text }));
}

function row(sale: SaleView, entry: SaleStatsEntry | undefined): HTMLTableRowElement {
  const path = `/admin/sales/${encodeURIComponent(sale.id)}`;
  const state = shownState(sale, entry !== undefined && "stats" in entry ? entry.stats : undefined);
  return el(
    "tr",
    { "data-sale": sale.id, "data-state": state },
    el("td", { "data-label": "Sale" }, el("a", { href: path, text: sale.name }), " ", el("small", { text: sale.id }), " ", el("a", { class: "small-link", href: `${path}/orders`, text: "orders" })),
    el("td", { "data-label": "State" }, el("span", { class: "state", "data-state": state, text: state })),
    el("td", { "data-label": "Starts" }, instantElement(sale.startsAt)),
    el("td", { "data-label": "Ends" }, instantElement(sale.endsAt)),
    el("td", { "data-label": "Price", class: "number", text: money(sale.price, sale.currency) ?? `${sale.price} ${sale.currency}` }),
    el("td", { "data-label": "Stock", class: "number", text: count(sale.stock) }),
    ...statsCells(sale, entry),
  );
}

export async function salesList(): Promise<void> {
  const params = new URLSearchParams(location.search);
  let sales: SaleView[] | undefined;
  let stats = new Map<string, SaleStatsEntry>();

  const search = el("input", { type: "search", id: "filter-text", name: "q", placeholder: "Name or id", autocomplete: "off" });
  search.value = params.get("q") ?? "";
  const stateFilter = el("select", { id: "filter-state", name: "state" }, el("option", { value: "", text: "any state" }), ...STATES.map((s) => el("option", { value: s, text: s })));
  stateFilter.value = params.get("state") ?? "";
  const archived = el("input", { type: "checkbox", id: "show-archived", name: "archived" });
  archived.checked = params.get("archived") === "1";
  const summary = el("p", { id: "list-summary", role: "status" });
  const body = el("tbody");
  const deleted = params.get("deleted");

  function draw(): void {
    if (sales === undefined) return;
    const text = search.value.trim().toLowerCase();
    const wanted = stateFilter.value;
    let hidden = 0;
    const shown = sales.filter((sale) => {
      const entry = stats.get(sale.id);
      const state = shownState(sale, entry !== undefined && "stats" in entry ? entry.stats : undefined);
      if (text !== "" && !sale.name.toLowerCase().includes(text) && !sale.id.includes(text)) return false;
      if (wanted !== "" && state !== wanted) return false;
      // Asking for ended sales by state shows them whatever the archive box says.
      if (state === "ended" && !archived.checked && wanted !== "ended") {
        hidden++;
        return false;
      }
      return true;
    });
    body.replaceChildren(
      ...(shown.length === 0 ? [el("tr", {}, el("td", { colspan: String(COLUMNS.length), text: sales.length === 0 ? "No sales yet." : "No sale matches." }))] : shown.map((s) => row(s, stats.get(s.id)))),
    );
    summary.textContent = `${shown.length} of ${sales.length} sales shown${hidden > 0 ? `; ${hidden} archived (ended) hidden` : ""}.`;
  }

  function filtersChanged(): void {
    const query = new URLSearchParams();
    if (search.value.trim() !== "") query.set("q", search.value.trim());
    if (stateFilter.value !== "") query.set("state", stateFilter.value);
    if (archived.checked) query.set("archived", "1");
    history.replaceState(null, "", query.toString() === "" ? location.pathname : `${location.pathname}?${query}`);
    draw();
  }
  search.addEventListener("input", filtersChanged);
  stateFilter.addEventListener("change", filtersChanged);
  archived.addEventListener("change", filtersChanged);

  const listPanel = new Panel({
    id: "sales",
    what: "the sales",
    refreshMs: LIST_REFRESH_MS,
    load: async () => {
      sales = (await api<{ sales: SaleView[] }>("GET", "/sales")).sales;
      draw();
    },
  });
  const statsPanel = new Panel({
    id: "sales-stats",
    what: "the live stats",
    refreshMs: STATS_REFRESH_MS,
    load: async () => {
      const { sales: entries } = await api<{ sales: SaleStatsEntry[] }>("GET", "/sales-stats");
      stats = new Map(entries.map((e) => [e.id, e]));
      draw();
    },
  });

  render(
    el("h1", { text: "Sales" }),
    ...(deleted === null ? [] : [el("p", { id: "deleted-notice", role: "status", text: `Deleted the sale ${deleted}.` })]),
    el(
      "form",
      { class: "filters", role: "search", id: "filters" },
      el("label", { for: "filter-text", text: "Search" }),
      search,
      el("label", { for: "filter-state", text: "State" }),
      stateFilter,
      el("label", { class: "inline" }, archived, " Show archived (ended) sales"),
    ),
    listPanel.status,
    statsPanel.status,
    summary,
    el("table", { id: "sales", class: "cards" }, el("thead", {}, el("tr", {}, ...COLUMNS.map((text) => el("th", { scope: "col", text })))), body),
  );
  document.getElementById("filters")!.addEventListener("submit", (e) => e.preventDefault());
  await Promise.all([listPanel.refresh(), statsPanel.refresh()]);
}
