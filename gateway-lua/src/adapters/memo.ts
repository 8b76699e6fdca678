/**
 * A worker's memo of what it has already checked, sized by the knob signature_memo_size (0: no
 * memo). Two generations of plain Lua tables rather than resty.lrucache: its FFI queue is slow in
 * LuaJIT's interpreter, where much of a request runs on this build. A key found in the old
 * generation moves to the current one; when the current one holds `size` keys it becomes the old
 * one, and the old one is dropped. So at most 2 × size entries are kept, and a key used within the
 * last `size` insertions is found.
 */
export class Memo<V> {
  private current = new LuaTable<string, V>();
  private previous = new LuaTable<string, V>();
  private count = 0;

  constructor(private readonly size: number) {}

  get(key: string): V | undefined {
    const value = this.current.get(key);
    if (value !== undefined) return value;
    const older = this.previous.get(key);
    if (older !== undefined) this.set(key, older);
    return older;
  }

  set(key: string, value: V): void {
    if (this.count >= this.size) {
      this.previous = this.current;
      this.current = new LuaTable();
      this.count = 0;
    }
    this.current.set(key, value);
    this.count++;
  }
}

export function newMemo<V>(size: number): Memo<V> | undefined {
  return size > 0 ? new Memo<V>(size) : undefined;
}
