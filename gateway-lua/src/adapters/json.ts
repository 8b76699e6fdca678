/** JSON in the nginx layer: cjson.safe (errors as values), strict about numbers and depth. */
import * as cjson from "cjson.safe";

cjson.decode_invalid_numbers(false);
cjson.decode_max_depth(8);

/** Decoded value, or undefined when text is not JSON. */
export function decodeJson(text: string): unknown {
  const [value] = cjson.decode(text);
  return value ?? undefined;
}

export function encodeJson(value: unknown): string {
  return cjson.encode(value) ?? "null";
}
