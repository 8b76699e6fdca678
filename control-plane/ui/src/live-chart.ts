/**
 * The live page's chart (uPlot): units sold and requests per second over the sale (the seconds
 * the control plane kept, then the page's own readings), on a time axis in the operator's zone,
 * each on its own labelled scale; the legend shows the values under the cursor.
 */
import uPlot from "uplot";
import { clockText, count, TIME_ZONE } from "./format";

/** Samples kept: two hours at one a second (a flash sale lasts minutes). */
const HISTORY = 7200;
const HEIGHT = 260;

type Series = (number | null)[];

/**
 * A y axis as wide as its widest tick label: uPlot's fixed 50 px put the title over labels
 * like "18,000" (its axis-autosize demo's measure).
 */
export function fitTicks(self: uPlot, values: string[] | null, axisIdx: number, cycleNum: number): number {
  const axis = self.axes[axisIdx]!;
  if (cycleNum > 1) return (axis as { _size?: number })._size ?? 50;
  const longest = (values ?? []).reduce((a, v) => (v.length > a.length ? v : a), "");
  self.ctx.font = (axis.font as unknown as string[])[0]!;
  return Math.ceil((axis.ticks?.size ?? 10) + (axis.gap ?? 5) + self.ctx.measureText(longest).width / devicePixelRatio);
}

export class LiveChart {
  private readonly plot: uPlot;
  private readonly data: [number[], Series, Series] = [[], [], []];

  constructor(container: HTMLElement) {
    const value = (format: (v: number) => string) => (_u: uPlot, v: number | null) => (v === null ? "—" : format(v));
    // Both scales start at 0: a flat line near the top must not look like a surge.
    const fromZero = (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, Math.max(1, max * 1.1)];
    this.plot = new uPlot(
      {
        width: Math.max(container.clientWidth, 200),
        height: HEIGHT,
        scales: { x: { time: true }, units: { range: fromZero }, rps: { range: fromZero } },
        series: [
          { label: `Time (${TIME_ZONE})`, value: value((s) => clockText(s * 1000)) },
          { label: "Units sold", scale: "units", stroke: "#1a7f37", width: 2, value: value((v) => `${count(v)} units`) },
          { label: "Requests/s", scale: "rps", stroke: "#0969da", width: 1.5, value: value((v) => `${v.toFixed(1)} req/s`) },
        ],
        axes: [
          { label: `Time (${TIME_ZONE})`, values: (_u, ticks) => ticks.map((s) => clockText(s * 1000)) },
          { scale: "units", label: "Units sold (units)", stroke: "#1a7f37", size: fitTicks },
          { scale: "rps", label: "Requests per second (req/s)", side: 1, stroke: "#0969da", grid: { show: false }, size: fitTicks },
        ],
      },
      this.data,
      container,
    );
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(container.clientWidth, 200), height: HEIGHT })).observe(container);
  }

  /** The sale's kept seconds before the page opened, oldest first: requests per second only. */
  history(seconds: { atMs: number; requests: number }[]): void {
    const [x, units, rps] = this.data;
    const first = x[0] ?? Infinity;
    const before = seconds.filter((s) => s.atMs / 1000 < first).slice(-HISTORY);
    x.unshift(...before.map((s) => s.atMs / 1000));
    units.unshift(...before.map(() => null));
    rps.unshift(...before.map((s) => s.requests));
    this.plot.setData(this.data);
  }

  /** One sample; null where the value is not known (its read failed). */
  push(atMs: number, unitsSold: number | null, requestsPerSecond: number | null): void {
    const [x, units, rps] = this.data;
    x.push(atMs / 1000);
    units.push(unitsSold);
    rps.push(requestsPerSecond);
    if (x.length > HISTORY) for (const series of this.data) series.shift();
    this.plot.setData(this.data);
  }
}
