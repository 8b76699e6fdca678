/**
 * /admin/sales/new and /admin/sales/<id>/edit: one control for each setting of the sale's list
 * (sales/fields.ts), checked in the browser by the API's own schema (sales/schema.ts, bundled),
 * each bad field's message next to it and tied to it for screen readers, the focus on the first;
 * times typed in the operator's zone (datetime-local) and shown in UTC as typed; the price shown
 * in its currency; a warning before saving an end that is already past. An optional group of
 * settings (the waiting room) is turned on and off by a checkbox. A started sale's fixed fields
 * are read-only with the reason; an edit sends only the fields changed. A role that may not save
 * (a viewer; below admin, a started sale) is told so instead of given a form.
 */
import { fieldErrors } from "../../src/api/field-errors";
import { SETTINGS, type Value, type ValueType } from "../../src/sales/fields";
import { fixedOnceStarted, hasStarted } from "../../src/sales/lifecycle";
import { saleInputSchema } from "../../src/sales/schema";
import { api, ApiFailure, reason, type FieldError } from "./api";
import { el, render } from "./dom";
import { fromLocalInput, instantText, money, TIME_ZONE, toLocalInput } from "./format";
import { mayCall, myRole } from "./role";
import { readSale, salePath } from "./sale-record";
import { mayEdit } from "./sale-state";
import type { SaleView } from "./types";

// The browser only checks: the form sends what the admin typed, and the server fills in its
// own defaults (FS_DEFAULT_*) for the fields left empty, so these values never leave the page.
const schema = saleInputSchema({ limits: { userRatePerSecond: 1, userBurst: 0, admitPerSecond: 1 } });

/** `toggle`: turns an optional group on (its fields are asked) or off (the sale has none). */
type Kind = "text" | "number" | "datetime" | "select" | "checkbox" | "toggle";
type Control = HTMLInputElement | HTMLSelectElement;

interface Field {
  path: string;
  label: string;
  kind: Kind;
  hint?: string;
  choices?: readonly string[];
  /** A select's value for a new sale. */
  suggested?: string;
  /** The optional group the field belongs to: asked only while its toggle is on. */
  within?: string;
}

/** A group of fields under its legend; `fields` alone for the sale's top level. */
interface Section {
  legend?: string;
  fields: Field[];
}

const KINDS: Record<Exclude<ValueType, "object">, Kind> = {
  text: "text",
  integer: "number",
  number: "number",
  boolean: "checkbox",
  instant: "datetime",
  choice: "select",
};

/** What an empty field means, from the setting's default. */
function hintOf(v: Value): string | undefined {
  if (v.hint !== undefined || v.default === undefined || v.type === "boolean") return v.hint;
  return `empty: ${typeof v.default === "function" ? "server default" : String(v.default)}`;
}

function fieldOf(path: string, v: Value, within?: string): Field {
  if (v.type === "object") throw new Error(`${path}: the sale form shows groups one level deep`);
  const kind = KINDS[v.type];
  const label = kind === "datetime" ? `${v.label} (your time, ${TIME_ZONE})` : v.label;
  return { path, label, kind, hint: hintOf(v), choices: v.choices, suggested: v.suggested, within };
}

const SECTIONS: Section[] = [
  { fields: [{ path: "id", label: "Id", kind: "text", hint: "empty: made from the name" }] },
  ...SETTINGS.map((s): Section => {
    if (s.fields === undefined) return { fields: [fieldOf(s.name, s)] };
    const within = s.optional ? s.name : undefined;
    const toggle: Field[] = s.optional ? [{ path: s.name, label: "On", kind: "toggle", hint: s.hint }] : [];
    return { legend: s.label, fields: [...toggle, ...Object.entries(s.fields).map(([name, v]) => fieldOf(`${s.name}.${name}`, v, within))] };
  }),
];
const FIELDS: Field[] = SECTIONS.flatMap((s) => s.fields);

function fieldAt(path: string): Field {
  const field = FIELDS.find((f) => f.path === path);
  if (field === undefined) throw new Error(`the sale form has no field ${path}`);
  return field;
}

/** Ids of a field's input and of the notes about it, from its dotted path. */
function idOf(prefix: string, path: string): string {
  return `${prefix}-${path.replace(/\./g, "-")}`;
}

function valueAt(sale: SaleView | undefined, path: string): unknown {
  return path.split(".").reduce<unknown>((obj, key) => (obj as Record<string, unknown> | undefined)?.[key], sale);
}

/** What the control shows for a stored value. */
function shownText(field: Field, value: unknown): string {
  if (value === undefined || value === null) return "";
  if (field.kind === "datetime" && typeof value === "string") return toLocalInput(value);
  return String(value);
}

/** The value as typed: a number as a number, a local time as ISO UTC; anything else as typed, for the schema to name. */
function typedValue(field: Field, control: Control): unknown {
  if (field.kind === "checkbox" || field.kind === "toggle") return (control as HTMLInputElement).checked;
  const text = control.value.trim();
  if (text === "") return undefined;
  if (field.kind === "datetime") return fromLocalInput(text) ?? text;
  if (field.kind === "number" && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

function controlState(field: Field, control: Control): string {
  return field.kind === "checkbox" || field.kind === "toggle" ? String((control as HTMLInputElement).checked) : control.value.trim();
}

function setAt(target: Record<string, unknown>, path: string, value: unknown): void {
  const [head, leaf] = path.split(".") as [string, string | undefined];
  if (leaf === undefined) target[head] = value;
  else target[head] = { ...(target[head] as Record<string, unknown> | undefined), [leaf]: value };
}

export async function saleForm(saleId: string | undefined): Promise<void> {
  const sale = saleId === undefined ? undefined : (await readSale(saleId))?.sale;
  if (saleId !== undefined && sale === undefined) {
    render(el("h1", { text: "No such sale" }), el("p", { text: `There is no sale with the id "${saleId}".` }));
    return;
  }
  const role = myRole();
  if (sale === undefined ? !mayCall(role, "POST", "/sales") : !mayEdit(sale, role)) {
    const what = sale === undefined ? "create sales" : hasStarted(sale.state) ? "change a sale that has started" : "change sales";
    render(el("h1", { text: sale === undefined ? "New sale" : sale.name }), el("p", { id: "form-refused", role: "status", text: `Your role (${role}) cannot ${what}.` }));
    return;
  }
  const fixed = new Map<string, string>((sale !== undefined && hasStarted(sale.state) ? fixedOnceStarted(sale) : []).map((r) => [r.path, r.message]));
  const controls = new Map<string, Control>();
  /** What each control showed at first: an edit sends only what differs. */
  const initial = new Map<string, string>();

  function note(id: string, className: string, text = ""): HTMLElement {
    return el("p", { class: className, id, text });
  }

  function fieldRow(field: Field): HTMLElement {
    const value = valueAt(sale, field.path);
    const id = idOf("field", field.path);
    let control: Control;
    if (field.kind === "select") {
      control = el("select", { id, name: field.path }, el("option", { value: "", text: "(choose)" }), ...(field.choices ?? []).map((d) => el("option", { value: d, text: d })));
      control.value = typeof value === "string" ? value : sale === undefined ? (field.suggested ?? "") : "";
    } else if (field.kind === "checkbox" || field.kind === "toggle") {
      control = el("input", { id, name: field.path, type: "checkbox" });
      control.checked = field.kind === "toggle" ? value !== undefined : value === true;
    } else if (field.kind === "datetime") {
      control = el("input", { id, name: field.path, type: "datetime-local", step: "1" });
      control.value = shownText(field, value);
    } else {
      control = el("input", { id, name: field.path, type: "text", inputmode: field.kind === "number" ? "decimal" : "text" });
      control.value = shownText(field, value);
    }
    // The id names the sale for good once it exists.
    const reasonFixed = fixed.get(field.path);
    if (reasonFixed !== undefined || (sale !== undefined && field.path === "id")) control.disabled = true;
    controls.set(field.path, control);
    initial.set(field.path, controlState(field, control));

    const notes: HTMLElement[] = [];
    if (field.hint !== undefined) notes.push(note(idOf("hint", field.path), "hint", field.hint));
    // Live readings of what is typed: the price in its currency, a local time in UTC.
    if (field.path === "price" || field.kind === "datetime") notes.push(note(idOf("shown", field.path), "hint"));
    if (field.path === "endsAt") notes.push(note(idOf("warning", field.path), "warning"));
    if (reasonFixed !== undefined) notes.push(note(idOf("fixed", id), "fixed", `Read-only: ${reasonFixed}`));
    notes.push(note(idOf("error", field.path), "field-error"));
    control.setAttribute("aria-describedby", notes.map((n) => n.id).join(" "));
    return el("div", { class: "field" }, el("label", { for: id, text: field.label }), control, ...notes);
  }

  const sections = SECTIONS.map(({ legend, fields }) => {
    const rows = fields.map(fieldRow);
    return legend === undefined ? rows : [el("fieldset", {}, el("legend", { text: legend }), ...rows)];
  });
  const formError = el("p", { id: "form-error", class: "error", role: "alert", tabindex: "-1" });
  const form = el("form", { id: "sale-form", novalidate: "" }, ...sections.flat(), formError, el("button", { type: "submit", text: sale === undefined ? "Create and publish" : "Save changes" }));

  /** The typed end, when it is a time already past. */
  function pastEnd(): string | undefined {
    const endsAt = typedValue(fieldAt("endsAt"), controls.get("endsAt")!);
    return typeof endsAt === "string" && Date.parse(endsAt) <= Date.now() ? endsAt : undefined;
  }

  function showReadings(): void {
    const price = typedValue(fieldAt("price"), controls.get("price")!);
    const currency = controls.get("currency")!.value.trim() || "USD";
    const shownPrice = typeof price === "number" && Number.isInteger(price) && price >= 0 ? money(price, currency) : undefined;
    document.getElementById("shown-price")!.textContent =
      shownPrice !== undefined ? `Shoppers see ${shownPrice}` : typeof price === "number" && money(0, currency) === undefined ? `"${currency}" is not a currency code` : "";
    for (const path of ["startsAt", "endsAt"]) {
      const at = typedValue(fieldAt(path), controls.get(path)!);
      document.getElementById(idOf("shown", path))!.textContent = typeof at === "string" && !Number.isNaN(Date.parse(at)) ? `= ${instantText(at).split(" · ")[1]}` : "";
    }
    const past = pastEnd();
    document.getElementById("warning-endsAt")!.textContent = past === undefined ? "" : "This end is already past: the sale would be over as soon as it is saved.";
  }
  form.addEventListener("input", showReadings);

  function isOn(group: string | undefined): boolean {
    return group === undefined || (controls.get(group) as HTMLInputElement).checked;
  }

  /** An optional group's fields take input only while its toggle is on. */
  function enableGroups(): void {
    for (const field of FIELDS) if (field.within !== undefined) controls.get(field.path)!.disabled = !isOn(field.within);
  }
  form.addEventListener("change", enableGroups);

  function showErrors(errors: FieldError[], summary: string): void {
    const messages = new Map<string, string[]>();
    const unplaced: string[] = [];
    for (const { path, message } of errors) {
      if (controls.has(path)) messages.set(path, [...(messages.get(path) ?? []), message]);
      else unplaced.push(path === "" ? message : `${path} ${message}`);
    }
    for (const [path, control] of controls) {
      const text = messages.get(path)?.join("; ") ?? "";
      document.getElementById(idOf("error", path))!.textContent = text;
      if (text === "") control.removeAttribute("aria-invalid");
      else control.setAttribute("aria-invalid", "true");
    }
    formError.textContent = [summary, ...unplaced].join(" ");
    // The first bad field in the form's order, else the summary, takes the focus.
    const first = FIELDS.find((f) => messages.has(f.path));
    (first === undefined ? formError : controls.get(first.path)!).focus();
  }

  /** The whole sale as the form shows it (to check), and the fields changed since it was drawn (an edit's patch). */
  function formInput(): { input: Record<string, unknown>; patch: Record<string, unknown> } {
    const input: Record<string, unknown> = {};
    const patch: Record<string, unknown> = {};
    /** Groups just turned on: the patch carries all their fields. */
    const turnedOn = new Set<string>();
    for (const field of FIELDS) {
      if (sale !== undefined && field.path === "id") continue;
      const control = controls.get(field.path)!;
      const changed = controlState(field, control) !== initial.get(field.path);
      if (field.kind === "toggle") {
        // On, the group is checked whole (each field left empty is named); off, null removes it (JSON merge patch).
        const on = (control as HTMLInputElement).checked;
        if (on) input[field.path] = {};
        if (changed) patch[field.path] = on ? {} : null;
        if (changed && on) turnedOn.add(field.path);
        continue;
      }
      if (!isOn(field.within)) continue;
      const value = typedValue(field, control);
      if (value !== undefined) setAt(input, field.path, value);
      // null clears an optional setting (JSON merge patch).
      if (changed || (field.within !== undefined && turnedOn.has(field.within))) setAt(patch, field.path, value ?? null);
    }
    return { input, patch };
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { input, patch } = formInput();
    const checked = schema.safeParse(sale === undefined ? input : { ...input, id: sale.id });
    if (!checked.success) {
      showErrors(fieldErrors(checked.error), "Not saved: fix the fields marked.");
      return;
    }
    if (sale !== undefined && Object.keys(patch).length === 0) {
      showErrors([], "Nothing to save: no field was changed.");
      return;
    }
    const past = pastEnd();
    if (past !== undefined && !confirm(`The end (${instantText(past)}) is already past: the sale would be over as soon as it is saved. Save anyway?`)) {
      showErrors([{ path: "endsAt", message: "is already past; not saved" }], "Not saved.");
      return;
    }
    const saved = sale === undefined ? api<SaleView>("POST", "/sales", input) : api<SaleView>("PATCH", salePath(sale.id), patch);
    saved.then(
      (s) => location.assign(`/admin${salePath(s.id)}`),
      (err: unknown) => showErrors(err instanceof ApiFailure ? err.fields : [], `Not saved: ${reason(err)}.`),
    );
  });

  render(el("p", { class: "crumbs" }, el("a", { href: "/admin", text: "All sales" })), el("h1", { text: sale === undefined ? "New sale" : `Edit ${sale.name}` }), form);
  showReadings();
  enableGroups();
}
