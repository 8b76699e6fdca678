/** String helpers that TSTL lacks (it has no lastIndexOf) and that behave alike in Node and LuaJIT. */

/** Index of the last occurrence of the byte `code` in s, or -1. ASCII codes only. */
export function lastIndexOfCode(s: string, code: number): number {
  for (let i = s.length - 1; i >= 0; i--) {
    if (s.charCodeAt(i) === code) return i;
  }
  return -1;
}

/**
 * The value of s when it is 1 to maxDigits plain ASCII decimal digits, else undefined: no
 * sign, space or point (Lua's tonumber and JS's Number both take more). Below 10^15 the
 * value is exact in both runtimes.
 */
export function decimalValue(s: string, maxDigits: number): number | undefined {
  if (s.length === 0 || s.length > maxDigits) return undefined;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    n = n * 10 + (c - 48);
  }
  return n;
}
