import { expandIncludes } from "../src/script_includes";

const includes: Record<string, string> = { "order-record": "local function f() end\n" };
const read = (name: string) => includes[name];

test("an include line is replaced by the include's text, the other lines kept as they are", () => {
  expect(expandIncludes("-- head\n-- @include order-record\nreturn f()\n", read)).toEqual({
    text: "-- head\nlocal function f() end\nreturn f()\n",
  });
});

test("a script without includes comes back unchanged", () => {
  const source = "-- an ordinary comment: @include is only a directive at a line's start\nreturn 1\n";
  expect(expandIncludes(source, read)).toEqual({ text: source });
});

test.each([
  ["an unknown include", "-- @include nothing-here", "include: no includes/nothing-here.lua"],
  ["a path", "-- @include ../secret", "include: bad name '../secret'"],
  ["no name", "-- @include ", "include: bad name ''"],
])("refused: %s", (_, line, error) => {
  expect(expandIncludes(`${line}\nreturn 1`, read)).toEqual({ error });
});
