/**
 * What a sale's state allows in the pages: the API's own rules (sales/lifecycle.ts), less what
 * would change nothing (pausing a paused sale, ending an ended one); and the state as shown,
 * where an active sale with no units left is sold out.
 */
import { actionRefusal } from "../../src/sales/lifecycle";
import type { LiveStats } from "../../src/sales/live-stats";
import type { SaleView } from "./types";

export type PageAction = "publish" | "edit" | "pause" | "resume" | "end" | "delete";

/** In the order the buttons are shown. */
export function allowedActions(sale: SaleView): PageAction[] {
  const allowed: PageAction[] = [];
  // Publishing republishes a live sale too (a repair); as a button it is a draft's first step.
  if (sale.state === "draft") allowed.push("publish");
  if (actionRefusal("update", sale.state) === undefined) allowed.push("edit");
  if (!sale.paused && actionRefusal("pause", sale.state) === undefined) allowed.push("pause");
  if (sale.paused && actionRefusal("resume", sale.state) === undefined) allowed.push("resume");
  if (sale.state !== "ended" && actionRefusal("end", sale.state) === undefined) allowed.push("end");
  if (actionRefusal("delete", sale.state) === undefined) allowed.push("delete");
  return allowed;
}

export type ShownState = SaleView["state"] | "sold out";

export function shownState(sale: SaleView, stats: LiveStats | undefined): ShownState {
  return sale.state === "active" && stats?.unitsLeft === 0 ? "sold out" : sale.state;
}
