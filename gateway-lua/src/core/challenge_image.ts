/**
 * The challenge picture: the answer's digits drawn as an SVG no markup reader can spell out.
 * There is no text in it: each digit is a hand-drawn stroke shape whose points are rotated,
 * scaled and jittered before they are written, so no two drawings of a digit share a path;
 * noise curves in the same pen are mixed in, and all paths are written in random order.
 * A program has to render and recognise the picture, as a person does.
 */

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

const GLYPHS: Stroke[][] = [
  [[5, 0, 8.5, 1.5, 10, 5, 10, 11, 8.5, 14.5, 5, 16, 1.5, 14.5, 0, 11, 0, 5, 1.5, 1.5, 5, 0]],
  [[2, 3.5, 5.5, 0, 5.5, 16], [2, 16, 9, 16]],
  [[0.5, 3.5, 2, 1, 5, 0, 8, 1, 9.5, 3.5, 9, 6.5, 0, 16, 10, 16]],
  [[0.5, 1.5, 4, 0, 8, 0.5, 9.5, 3, 8.5, 6, 4.5, 7.5, 9, 9, 10, 12, 8.5, 15, 5, 16, 1, 15, 0, 13.5]],
  [[7.5, 16, 7.5, 0, 0, 11, 10, 11]],
  [[9.5, 0, 1.5, 0, 0.5, 7, 4.5, 6, 8, 6.8, 10, 10, 9.5, 13.5, 7, 15.8, 3.5, 16, 0, 14.5]],
  [SIX],
  [[0, 1.5, 0, 0, 10, 0, 3.5, 16]],
  [[5, 7.5, 2, 6, 1, 3.5, 2.5, 0.8, 5, 0, 7.5, 0.8, 9, 3.5, 8, 6, 5, 7.5, 1.5, 9.5, 0, 12.5, 1.5, 15.2, 5, 16, 8.5, 15.2, 10, 12.5, 8.5, 9.5, 5, 7.5]],
  [halfTurn(SIX)],
];

export const IMAGE_WIDTH = 220;
export const IMAGE_HEIGHT = 80;
const NOISE_CURVES = 5;
const NOISE_DASHES = 14;
const PENS = ["#1d3557", "#3a0ca3", "#5a189a", "#22333b", "#264653", "#6a040f"];

/** A random source: numbers in [0, 1). */
export type Random = (this: void) => number;

function between(rand: Random, lo: number, hi: number): number {
  return lo + (hi - lo) * rand();
}

function fixed1(n: number): string {
  return (Math.round(n * 10) / 10).toFixed(1);
}

function pen(rand: Random): string {
  return PENS[Math.floor(rand() * PENS.length)] as string;
}

function pathElement(d: string, color: string, width: number): string {
  return '<path d="' + d + '" stroke="' + color + '" stroke-width="' + fixed1(width) + '"/>';
}

/** The strokes of one digit placed at (cx, cy), turned, scaled and jittered point by point. */
function digitPaths(digit: number, cx: number, cy: number, rand: Random): string[] {
  const angle = between(rand, -0.45, 0.45);
  const scale = between(rand, 2.3, 2.9);
  const cos = Math.cos(angle) * scale;
  const sin = Math.sin(angle) * scale;
  const color = pen(rand);
  const width = between(rand, 2.2, 3.2);
  const paths: string[] = [];
  for (const stroke of GLYPHS[digit] as Stroke[]) {
    const parts: string[] = [];
    for (let i = 0; i < stroke.length; i += 2) {
      const gx = (stroke[i] as number) - 5 + between(rand, -0.5, 0.5);
      const gy = (stroke[i + 1] as number) - 8 + between(rand, -0.5, 0.5);
      parts.push((i === 0 ? "M" : "L") + fixed1(cx + gx * cos - gy * sin) + " " + fixed1(cy + gx * sin + gy * cos));
    }
    paths.push(pathElement(parts.join(""), color, width));
  }
  return paths;
}

function noiseCurve(rand: Random): string {
  const y0 = between(rand, 10, IMAGE_HEIGHT - 10);
  const d =
    "M" + fixed1(between(rand, -5, 20)) + " " + fixed1(y0) +
    "C" + fixed1(between(rand, 40, 90)) + " " + fixed1(between(rand, -20, IMAGE_HEIGHT + 20)) +
    " " + fixed1(between(rand, 120, 180)) + " " + fixed1(between(rand, -20, IMAGE_HEIGHT + 20)) +
    " " + fixed1(between(rand, 200, IMAGE_WIDTH + 5)) + " " + fixed1(between(rand, 10, IMAGE_HEIGHT - 10));
  return pathElement(d, pen(rand), between(rand, 1.2, 2.6));
}

function noiseDash(rand: Random): string {
  const x = between(rand, 0, IMAGE_WIDTH);
  const y = between(rand, 0, IMAGE_HEIGHT);
  const d = "M" + fixed1(x) + " " + fixed1(y) + "L" + fixed1(x + between(rand, -14, 14)) + " " + fixed1(y + between(rand, -14, 14));
  return pathElement(d, pen(rand), between(rand, 1.5, 3));
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

/** The SVG document for `answer` (decimal digits only). */
export function challengeSvg(answer: string, rand: Random): string {
  const paths: string[] = [];
  const step = (IMAGE_WIDTH - 30) / answer.length;
  for (let i = 0; i < answer.length; i++) {
    const digit = answer.charCodeAt(i) - 48;
    const cx = 15 + step * (i + 0.5) + between(rand, -5, 5);
    const cy = IMAGE_HEIGHT / 2 + between(rand, -8, 8);
    for (const p of digitPaths(digit, cx, cy, rand)) paths.push(p);
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
