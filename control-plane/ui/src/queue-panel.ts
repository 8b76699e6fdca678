/**
 * The live page's waiting-room panel, for sales with one: queue length, admitted, passes used
 * and expired, and the admission rate measured between two refreshes beside the setting.
 */
import { el } from "./dom";
import type { SaleWithStats } from "./types";

export interface QueuePanel {
  element: HTMLElement;
  update(sale: SaleWithStats, atMs: number): void;
}

function stat(id: string, label: string): HTMLElement {
  return el("div", { class: "stat" }, el("span", { class: "stat-label", text: label }), el("span", { class: "stat-value", id, text: "…" }));
}

export function queuePanel(): QueuePanel {
  const element = el(
    "section",
    { id: "queue-panel" },
    el("h2", { text: "Waiting room" }),
    el(
      "div",
      { class: "stats" },
      stat("queue-length", "In the queue"),
      stat("queue-admitted", "Admitted"),
      stat("queue-passes-used", "Passes used"),
      stat("queue-passes-expired", "Passes expired"),
      stat("queue-rate", "Admission rate"),
    ),
  );
  let previous: { atMs: number; admitted: number } | undefined;
  const set = (id: string, text: string) => {
    const node = element.querySelector(`#${id}`);
    if (node !== null) node.textContent = text;
  };
  return {
    element,
    update(sale, atMs) {
      const q = sale.stats.queue ?? { length: 0, admitted: 0, passesUsed: 0, passesExpired: 0 };
      set("queue-length", String(q.length));
      set("queue-admitted", String(q.admitted));
      set("queue-passes-used", String(q.passesUsed));
      set("queue-passes-expired", String(q.passesExpired));
      const measured = previous !== undefined && atMs > previous.atMs ? ((q.admitted - previous.admitted) * 1000) / (atMs - previous.atMs) : undefined;
      previous = { atMs, admitted: q.admitted };
      const setting = sale.waitingRoom?.admitPerSecond;
      set("queue-rate", `${measured === undefined ? "…" : measured.toFixed(1)}/s (setting ${setting ?? "none"}/s)`);
    },
  };
}
