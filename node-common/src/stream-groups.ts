/**
 * XINFO GROUPS and XINFO CONSUMERS answer flat [name, value, …] lists per group or consumer:
 * read one way for the control plane's drain health, the tests' counts and the benchmarks.
 */

/** One flat [name, value, …] list as a map; empty when the reply is no list. */
export function xinfoFields(flat: unknown): Map<string, unknown> {
  const fields = new Map<string, unknown>();
  if (Array.isArray(flat)) for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), flat[i + 1]);
  return fields;
}

export interface StreamGroup {
  name: string;
  /** Entries delivered to a consumer and not yet acknowledged. */
  pending: number;
  lastDeliveredId: string;
  /** Null where Redis does not tell (before 7.0). */
  entriesRead: number | null;
  /** Entries not yet delivered; null when Redis cannot tell (entries were deleted) or before 7.0. */
  lag: number | null;
}

const numberOrNull = (v: unknown) => (typeof v === "number" ? v : null);

/** The groups of an XINFO GROUPS reply; none for anything else (a missing stream answers an error). */
export function streamGroups(reply: unknown): StreamGroup[] {
  return (Array.isArray(reply) ? reply : []).map(xinfoFields).map((g) => ({
    name: String(g.get("name")),
    pending: Number(g.get("pending") ?? 0),
    lastDeliveredId: String(g.get("last-delivered-id")),
    entriesRead: numberOrNull(g.get("entries-read")),
    lag: numberOrNull(g.get("lag")),
  }));
}

/** The group called `name` in an XINFO GROUPS reply; undefined before it was made. */
export function streamGroup(reply: unknown, name: string): StreamGroup | undefined {
  return streamGroups(reply).find((g) => g.name === name);
}
