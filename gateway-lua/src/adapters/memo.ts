/**
 * A worker's memo of what it has already checked (resty.lrucache: per Lua VM, so per worker,
 * least recently used forgotten first), sized by the knob signature_memo_size; 0: no memo.
 */
import * as lrucache from "resty.lrucache";

export function newMemo<V>(size: number): RestyLruCache<V> | undefined {
  if (size <= 0) return undefined;
  const [memo, err] = lrucache.new<V>(size);
  if (memo === undefined) error("resty.lrucache: " + tostring(err), 0);
  return memo;
}
