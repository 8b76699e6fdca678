/**
 * An audit entry as the fields it changed, before → after, instead of two whole records;
 * nested settings (limits) by dotted path; a null field counts as absent. Bookkeeping that
 * changes moves by themselves (times of the record, its revision, its Redis build) is left out.
 */

export interface FieldChange {
  path: string;
  /** undefined: the field was absent or null (a create, a delete, an optional setting added or removed). */
  before: unknown;
  after: unknown;
}

const BOOKKEEPING = new Set(["createdAt", "updatedAt", "revision", "epoch"]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function flatten(value: unknown, prefix: string, into: Map<string, unknown>): Map<string, unknown> {
  if (!isRecord(value)) {
    if (prefix !== "" && value !== undefined && value !== null) into.set(prefix, value);
    return into;
  }
  for (const [key, v] of Object.entries(value)) flatten(v, prefix === "" ? key : `${prefix}.${key}`, into);
  return into;
}

export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  const b = flatten(before, "", new Map());
  const a = flatten(after, "", new Map());
  const paths = [...new Set([...b.keys(), ...a.keys()])].filter((p) => !BOOKKEEPING.has(p));
  return paths
    .filter((p) => JSON.stringify(b.get(p)) !== JSON.stringify(a.get(p)))
    .map((path) => ({ path, before: b.get(path), after: a.get(path) }));
}
