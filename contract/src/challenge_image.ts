/**
 * The challenge picture: the answer's symbols (core/challenge.ts ALPHABET) drawn as an SVG with
 * no text in it. Each symbol is a stroke shape whose points are rotated, scaled and jittered
 * before they are written, so no two drawings of a symbol share a path; noise curves and dashes
 * in the same pens are mixed in, and all paths are written in random order. Reading it takes
 * rendering it, or rebuilding the strokes from the path data and telling them from the noise.
 *
 * Readable by people: only symbols that cannot be mistaken for one another, large (about 58 px
 * high), turned at most 17°, each in one colour with a stroke wider than most of the noise.
 */
import { ALPHABET } from "./challenge";

/** A stroke as x,y pairs in a 10 × 16 glyph box. */
type Stroke = number[];

const SIX: Stroke = [8.5, 0.5, 5, 0, 2, 1.5, 0.3, 5, 0, 10, 1, 14, 4, 16, 7.5, 15.5, 9.8, 12.5, 9.5, 9, 7, 7, 4, 7, 1.5, 8.5, 0.2, 10.5];

/** Six turned half a turn. */
function halfTurn(s: Stroke): Stroke {
  const out: Stroke = [];
  for (let i = 0; i < s.length; i += 2) {
    out.push(10 - (s[i] as number), 16 - (s[i + 1] as number));
  }
  return out;
}

/** The strokes of each symbol, in ALPHABET's order ("2346789"). */
const GLYPHS: Stroke[][] = [
  [[0.5, 3.5, 2, 1, 5, 0, 8, 1, 9.5, 3.5, 9, 6.5, 0, 16, 10, 16]],
  [[0.5, 1.5, 4, 0, 8, 0.5, 9.5, 3, 8.5, 6, 4.5, 7.5, 9, 9, 10, 12, 8.5, 15, 5, 16, 1, 15, 0, 13.5]],
  [[7.5, 16, 7.5, 0, 0, 11, 10, 11]],
  [SIX],
  // A crossed seven: nothing else here has a bar across its stem.
  [[0, 2, 0, 0, 10, 0, 3.5, 16], [2.5, 8.5, 8.5, 8.5]],
  [[5, 7.5, 2, 6, 1, 3.5, 2.5, 0.8, 5, 0, 7.5, 0.8, 9, 3.5, 8, 6, 5, 7.5, 1.5, 9.5, 0, 12.5, 1.5, 15.2, 5, 16, 8.5, 15.2, 10, 12.5, 8.5, 9.5, 5, 7.5]],
  [halfTurn(SIX)],
];

export const IMAGE_WIDTH = 330;
export const IMAGE_HEIGHT = 110;
const NOISE_CURVES = 4;
const NOISE_DASHES = 12;
const PENS = ["#1d3557", "#3a0ca3", "#5a189a", "#22333b", "#264653", "#6a040f"];

/** A random source: numbers in [0, 1). */
export type Random = (this: void) => number;

/** Numbers in [0, 1) from random bytes, one byte each, reused in turn when they run out. */
export function randomFromBytes(bytes: string): Random {
  let i = 0;
  return () => {
    const b = bytes.charCodeAt(i);
    i = (i + 1) % bytes.length;
    return b / 256;
  };
}

function between(rand: Random, lo: number, hi: number): number {
  return lo + (hi - lo) * rand();
}

/** One decimal, the same in Node and LuaJIT (no "-0.0" in Lua). */
function fixed1(n: number): string {
  const tenths = Math.round(n * 10);
  return (tenths === 0 ? 0 : tenths / 10).toFixed(1);
}

function pen(rand: Random): string {
  return PENS[Math.floor(rand() * PENS.length)] as string;
}

function pathElement(d: string, color: string, width: number): string {
  return '<path d="' + d + '" stroke="' + color + '" stroke-width="' + fixed1(width) + '"/>';
}

/** The strokes of one symbol placed at (cx, cy), turned, scaled and jittered point by point. */
function glyphPaths(glyph: Stroke[], cx: number, cy: number, rand: Random): string[] {
  const angle = between(rand, -0.3, 0.3);
  const scale = between(rand, 3.3, 3.8);
  const cos = Math.cos(angle) * scale;
  const sin = Math.sin(angle) * scale;
  const color = pen(rand);
  const width = between(rand, 3, 4);
  const paths: string[] = [];
  for (const stroke of glyph) {
    const parts: string[] = [];
    for (let i = 0; i < stroke.length; i += 2) {
      const gx = (stroke[i] as number) - 5 + between(rand, -0.35, 0.35);
      const gy = (stroke[i + 1] as number) - 8 + between(rand, -0.35, 0.35);
      parts.push((i === 0 ? "M" : "L") + fixed1(cx + gx * cos - gy * sin) + " " + fixed1(cy + gx * sin + gy * cos));
    }
    paths.push(pathElement(parts.join(""), color, width));
  }
  return paths;
}

function noiseCurve(rand: Random): string {
  const y0 = between(rand, 10, IMAGE_HEIGHT - 10);
  const d =
    "M" + fixed1(between(rand, -5, 30)) + " " + fixed1(y0) +
    "C" + fixed1(between(rand, 60, 120)) + " " + fixed1(between(rand, -20, IMAGE_HEIGHT + 20)) +
    " " + fixed1(between(rand, 170, 240)) + " " + fixed1(between(rand, -20, IMAGE_HEIGHT + 20)) +
    " " + fixed1(between(rand, 290, IMAGE_WIDTH + 5)) + " " + fixed1(between(rand, 10, IMAGE_HEIGHT - 10));
  return pathElement(d, pen(rand), between(rand, 1.2, 2.4));
}

function noiseDash(rand: Random): string {
  const x = between(rand, 0, IMAGE_WIDTH);
  const y = between(rand, 0, IMAGE_HEIGHT);
  const d = "M" + fixed1(x) + " " + fixed1(y) + "L" + fixed1(x + between(rand, -16, 16)) + " " + fixed1(y + between(rand, -16, 16));
  return pathElement(d, pen(rand), between(rand, 1.5, 3.2));
}

/** Fisher–Yates, so that a path's place in the markup says nothing about what it is. */
function shuffle(items: string[], rand: Random): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = items[i] as string;
    items[i] = items[j] as string;
    items[j] = t;
  }
}

/** The SVG document for `answer` (symbols of ALPHABET only). */
export function challengeSvg(answer: string, rand: Random): string {
  const paths: string[] = [];
  const step = (IMAGE_WIDTH - 30) / answer.length;
  for (let i = 0; i < answer.length; i++) {
    const glyph = GLYPHS[ALPHABET.indexOf(answer.substring(i, i + 1))] as Stroke[];
    const cx = 15 + step * (i + 0.5) + between(rand, -3, 3);
    const cy = IMAGE_HEIGHT / 2 + between(rand, -10, 10);
    for (const p of glyphPaths(glyph, cx, cy, rand)) paths.push(p);
  }
  for (let i = 0; i < NOISE_CURVES; i++) paths.push(noiseCurve(rand));
  for (let i = 0; i < NOISE_DASHES; i++) paths.push(noiseDash(rand));
  shuffle(paths, rand);
  return (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ' + IMAGE_WIDTH + " " + IMAGE_HEIGHT +
    '" width="' + IMAGE_WIDTH + '" height="' + IMAGE_HEIGHT + '">' +
    '<rect width="100%" height="100%" fill="#f4f1ea"/>' +
    '<g fill="none" stroke-linecap="round" stroke-linejoin="round">' + paths.join("") + "</g></svg>"
  );
}

/** The picture drawn from random bytes (see randomFromBytes): what the gateway serves. */
export function challengeSvgFromBytes(answer: string, bytes: string): string {
  return challengeSvg(answer, randomFromBytes(bytes));
}
