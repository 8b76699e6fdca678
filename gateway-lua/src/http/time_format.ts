/** Epoch milliseconds as ISO 8601 UTC with milliseconds, like JavaScript's toISOString(). */
export function isoTime(epochMs: number): string {
  const seconds = math.floor(epochMs / 1000);
  return (os.date("!%Y-%m-%dT%H:%M:%S", seconds) as string) + string.format(".%03dZ", epochMs - seconds * 1000);
}
