/**
 * What a sale's state and the signed-in role allow in the pages: the API's own rules
 * (sales/lifecycle.ts, auth/route-roles.ts), less what would change nothing (pausing a
 * paused sale, ending an ended one); and the state as shown, where an active sale with no units
 * left is sold out.
 */
import { CHANGE_STARTED_SALE_ROLE } from "../../src/auth/route-roles";
import { atLeast, type Role } from "../../src/auth/roles";
import { actionRefusal, hasStarted } from "../../src/sales/lifecycle";
import type { LiveStats } from "../../src/projection/live-stats";
import { mayCall } from "./role";
import { salePath } from "./sale-record";
import type { SaleView } from "./types";

export type PageAction = "publish" | "edit" | "pause" | "resume" | "end" | "delete";

/** The API call behind each action: its method and its path after the sale's. */
const CALLS: Record<PageAction, [string, string]> = {
  publish: ["POST", "/publish"],
  edit: ["PATCH", ""],
  pause: ["POST", "/pause"],
  resume: ["POST", "/resume"],
  end: ["POST", "/end"],
  delete: ["DELETE", ""],
};

/** Whether `role` may change the sale's settings (the edit page): its route, and a started sale only above it. */
export function mayEdit(sale: SaleView, role: Role): boolean {
  return mayCall(role, "PATCH", salePath(sale.id)) && (!hasStarted(sale.state) || atLeast(role, CHANGE_STARTED_SALE_ROLE));
}

/** In the order the buttons are shown; only those `role` may use. */
export function allowedActions(sale: SaleView, role: Role): PageAction[] {
  return actionsOfState(sale).filter((action) => (action === "edit" ? mayEdit(sale, role) : mayCall(role, CALLS[action][0], salePath(sale.id) + CALLS[action][1])));
}

function actionsOfState(sale: SaleView): PageAction[] {
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
