/** A small line chart as inline SVG (no library): each series scaled to its own maximum. */

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 600;
const HEIGHT = 120;

export interface Series {
  name: string;
  /** CSS class of its line (colour). */
  className: string;
  values: number[];
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

export function lineChart(title: string, series: Series[]): SVGSVGElement {
  const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": title, class: "chart" });
  chart.append(svg("rect", { x: "0", y: "0", width: String(WIDTH), height: String(HEIGHT), class: "chart-frame" }));
  for (const s of series) {
    if (s.values.length < 2) continue;
    const max = Math.max(1, ...s.values);
    const step = WIDTH / (s.values.length - 1);
    const points = s.values.map((v, i) => `${(i * step).toFixed(1)},${(HEIGHT - (v / max) * (HEIGHT - 4) - 2).toFixed(1)}`);
    const line = svg("polyline", { points: points.join(" "), class: s.className, fill: "none" });
    line.append(Object.assign(svg("title", {}), { textContent: `${s.name} (max ${max})` }));
    chart.append(line);
  }
  return chart;
}
