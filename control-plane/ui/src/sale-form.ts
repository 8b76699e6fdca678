/**
 * /admin/sales/new and /admin/sales/<id>/edit: checked in the browser by the API's own schema
 * (sales/schema.ts, bundled), each bad field's message next to it; a started sale's fixed
 * fields read-only with the reason (sales/lifecycle.ts).
 */
import { fieldErrors } from "../../src/http/field-errors";
import { fixedOnceStarted, hasStarted } from "../../src/sales/lifecycle";
import { saleInputSchema } from "../../src/sales/schema";
import { DEDUCTIONS } from "@flash-sale/gateway-lua/core/sale";
import { api, ApiFailure, type FieldError } from "./api";
import { el, render } from "./dom";
import type { SaleView } from "./types";

// The browser only checks: the form sends what the admin typed, and the server fills in its
// own defaults (FS_DEFAULT_*) for the fields left empty, so these values never leave the page.
const schema = saleInputSchema({ limits: { userRatePerSecond: 1, userBurst: 0, admitPerSecond: 1 } });

type Kind = "text" | "number" | "select" | "checkbox";

interface Field {
  path: string;
  label: string;
  kind: Kind;
  hint?: string;
}

const FIELDS: Field[] = [
  { path: "id", label: "Id", kind: "text", hint: "empty: made from the name" },
  { path: "name", label: "Name", kind: "text" },
  { path: "price", label: "Price (minor units)", kind: "number" },
  { path: "currency", label: "Currency", kind: "text", hint: "empty: USD" },
  { path: "stock", label: "Stock (units)", kind: "number" },
  { path: "startsAt", label: "Starts at (ISO 8601)", kind: "text" },
  { path: "endsAt", label: "Ends at (ISO 8601)", kind: "text" },
  { path: "perUserLimit", label: "Units per shopper", kind: "number", hint: "empty: 1" },
  { path: "deduction", label: "Deduction", kind: "select" },
  { path: "paymentTimeoutSeconds", label: "Payment timeout (s)", kind: "number" },
  { path: "challenge", label: "Challenge before purchase", kind: "checkbox" },
  { path: "limits.userRatePerSecond", label: "Attempts per shopper per second", kind: "number", hint: "empty: server default" },
  { path: "limits.userBurst", label: "Shopper burst", kind: "number", hint: "empty: server default" },
  { path: "limits.admitPerSecond", label: "Admitted attempts per second", kind: "number", hint: "empty: server default" },
  { path: "limits.openUnpaidOrders", label: "Open unpaid orders", kind: "number", hint: "deduction payment only" },
];

/** Ids of a field's input and message, from its dotted path. */
function inputId(path: string): string {
  return `field-${path.replace(/\./g, "-")}`;
}
function errorId(path: string): string {
  return `error-${path.replace(/\./g, "-")}`;
}

function valueAt(sale: SaleView | undefined, path: string): unknown {
  return path.split(".").reduce<unknown>((obj, key) => (obj as Record<string, unknown> | undefined)?.[key], sale);
}

function fieldRow(field: Field, sale: SaleView | undefined, fixedReason: string | undefined): HTMLElement {
  const value = valueAt(sale, field.path);
  const id = inputId(field.path);
  let input: HTMLInputElement | HTMLSelectElement;
  if (field.kind === "select") {
    input = el("select", { id, name: field.path }, el("option", { value: "", text: "(choose)" }), ...DEDUCTIONS.map((d) => el("option", { value: d, text: d })));
    input.value = typeof value === "string" ? value : "";
  } else if (field.kind === "checkbox") {
    input = el("input", { id, name: field.path, type: "checkbox" });
    input.checked = value === true;
  } else {
    input = el("input", { id, name: field.path, type: "text", inputmode: field.kind === "number" ? "decimal" : "text" });
    input.value = value === undefined || value === null ? "" : String(value);
  }
  // The id names the sale for good once it exists.
  if (fixedReason !== undefined || (sale !== undefined && field.path === "id")) input.disabled = true;
  const notes: HTMLElement[] = [];
  if (field.hint !== undefined) notes.push(el("small", { text: field.hint }));
  if (fixedReason !== undefined) notes.push(el("p", { class: "fixed", id: `fixed-${id}`, text: `Read-only: ${fixedReason}` }));
  return el(
    "div",
    { class: "field" },
    el("label", { for: id, text: field.label }),
    input,
    ...notes,
    el("p", { class: "field-error", id: errorId(field.path), role: "alert" }),
  );
}

/** A typed number as a number; anything else as typed, for the schema to name the problem. */
function typedValue(field: Field, input: HTMLInputElement | HTMLSelectElement): unknown {
  if (field.kind === "checkbox") return (input as HTMLInputElement).checked;
  const text = input.value.trim();
  if (text === "") return undefined;
  if (field.kind === "number" && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

/** The form as a sale input; empty fields are left out (`editing`: null, which clears them). */
function formInput(form: HTMLFormElement, editing: boolean): { input: Record<string, unknown>; patch: Record<string, unknown> } {
  const input: Record<string, unknown> = {};
  const patch: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const control = form.querySelector<HTMLInputElement | HTMLSelectElement>(`#${inputId(field.path)}`);
    if (control === null || (editing && field.path === "id")) continue;
    const value = typedValue(field, control);
    const [head, leaf] = field.path.split(".") as [string, string | undefined];
    for (const [target, v] of [[input, value], [patch, value ?? null]] as const) {
      if (v === undefined) continue;
      if (leaf === undefined) target[head] = v;
      else target[head] = { ...(target[head] as Record<string, unknown> | undefined), [leaf]: v };
    }
  }
  return { input, patch };
}

function showErrors(form: HTMLFormElement, errors: FieldError[], summary: string): void {
  for (const p of form.querySelectorAll<HTMLElement>(".field-error")) p.textContent = "";
  const unplaced: string[] = [];
  for (const { path, message } of errors) {
    const target = form.querySelector<HTMLElement>(`#${errorId(path)}`);
    if (target === null) unplaced.push(path === "" ? message : `${path} ${message}`);
    else target.textContent = target.textContent === "" ? message : `${target.textContent}; ${message}`;
  }
  const formError = form.querySelector<HTMLElement>("#form-error")!;
  formError.textContent = [summary, ...unplaced].join(" ");
}

export async function saleForm(saleId: string | undefined): Promise<void> {
  const sale = saleId === undefined ? undefined : await api<SaleView>("GET", `/${encodeURIComponent(saleId)}`);
  const fixed = new Map<string, string>((sale !== undefined && hasStarted(sale.state) ? fixedOnceStarted(sale) : []).map((r) => [r.path, r.message]));
  const form = el(
    "form",
    { id: "sale-form", novalidate: "" },
    ...FIELDS.map((f) => fieldRow(f, sale, fixed.get(f.path))),
    el("p", { id: "form-error", class: "error", role: "alert" }),
    el("button", { type: "submit", text: sale === undefined ? "Create and publish" : "Save changes" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { input, patch } = formInput(form, sale !== undefined);
    const checked = schema.safeParse(sale === undefined ? input : { ...input, id: sale.id });
    if (!checked.success) {
      showErrors(form, fieldErrors(checked.error), "Not saved: fix the fields marked.");
      return;
    }
    const saved = sale === undefined ? api<SaleView>("POST", "/", input) : api<SaleView>("PATCH", `/${encodeURIComponent(sale.id)}`, patch);
    saved.then(
      (s) => location.assign(`/admin/sales/${encodeURIComponent(s.id)}`),
      (err: unknown) => showErrors(form, err instanceof ApiFailure ? err.fields : [], err instanceof Error ? `Not saved: ${err.message}` : "Not saved."),
    );
  });
  render(el("h1", { text: sale === undefined ? "New sale" : `Edit ${sale.name}` }), form);
}
