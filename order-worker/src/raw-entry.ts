/**
 * A sale's stream entry as the reader delivers it, and what reading its fields takes: shared by
 * the order entries (order-entry.ts) and the status change entries (status-entry.ts).
 */

/** Which of a sale's streams an entry comes from: accepted orders, or later status changes. */
export type EntrySource = "orders" | "statuses";

/**
 * Which stock bucket of its sale an entry's stream belongs to (core/buckets.ts): each bucket has
 * its own streams and orders hash. Absent: bucket 0 of 1, the sale's own keys.
 */
export interface BucketRef {
  bucket?: number;
  buckets?: number;
}

/** An entry as read from one of a sale's streams; fields is null when the entry was deleted. */
export interface RawEntry extends BucketRef {
  saleId: string;
  source: EntrySource;
  id: string;
  fields: string[] | null;
}

/** An entry's fields by name (the first of a repeated name), or the reason it has none. */
export function entryFields(entry: RawEntry): Map<string, string> | string {
  const list = entry.fields;
  if (list === null) return "entry has no fields (deleted from the stream)";
  if (list.length % 2 !== 0) return "odd number of field values";
  const fields = new Map<string, string>();
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i] as string;
    if (!fields.has(name)) fields.set(name, list[i + 1] as string);
  }
  return fields;
}

/** A whole number in [min, max] written in plain decimal, else undefined. */
export function wholeNumber(s: string | undefined, min: number, max: number): number | undefined {
  if (s === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(s)) return undefined;
  const n = Number(s);
  return n >= min && n <= max ? n : undefined;
}
