/** JSON Merge Patch (RFC 7396): what PATCH of a sale applies to the stored settings. */

function isObject(v: unknown): v is { [key: string]: unknown } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `patch` applied to `target`: members replace, objects merge, null removes. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const merged = new Map(Object.entries(isObject(target) ? target : {}));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) merged.delete(key);
    else merged.set(key, mergePatch(merged.get(key), value));
  }
  // fromEntries defines own properties: a "__proto__" member stays a member (and is refused).
  return Object.fromEntries(merged);
}
