/** String helpers that TSTL lacks (it has no lastIndexOf) and that behave alike in Node and LuaJIT. */

/** Index of the last occurrence of the byte `code` in s, or -1. ASCII codes only. */
export function lastIndexOfCode(s: string, code: number): number {
  for (let i = s.length - 1; i >= 0; i--) {
    if (s.charCodeAt(i) === code) return i;
  }
  return -1;
}
