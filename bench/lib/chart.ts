/**
 * A small SVG line chart with two y axes (left: throughput, right: p99 latency) over a few x values, written as
 * text so the scaling run needs no charting dependency and its output reads well in a diff. Left-axis series are
 * solid lines, right-axis series dashed; a legend names each.
 */
export interface ChartSeries {
  label: string;
  colour: string;
  values: number[];
}

export interface ChartAxis {
  label: string;
  unit: string;
  series: ChartSeries[];
}

const WIDTH = 720;
const HEIGHT = 400;
const MARGIN = { top: 48, right: 72, bottom: 100, left: 72 };
const TICKS = 5;

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round upper bound for an axis that starts at 0. */
function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((candidate) => candidate * magnitude >= value / TICKS * 1.0001) ?? 10;
  return step * magnitude * TICKS;
}

const format = (value: number) => (value >= 100 ? String(Math.round(value)) : String(Math.round(value * 10) / 10));

export function lineChart(title: string, xLabel: string, xValues: number[], left: ChartAxis, right: ChartAxis): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  // x values are categories (1, 2, 4 instances), evenly spaced.
  const x = (i: number) => MARGIN.left + (xValues.length === 1 ? plotWidth / 2 : (i * plotWidth) / (xValues.length - 1));
  const scale = (axis: ChartAxis) => {
    const max = niceMax(Math.max(...axis.series.flatMap((series) => series.values).filter(Number.isFinite)));
    return { max, y: (value: number) => MARGIN.top + plotHeight - (value / max) * plotHeight };
  };
  const [l, r] = [scale(left), scale(right)];
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`);
  out.push(`<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15">${escape(title)}</text>`);
  for (let tick = 0; tick <= TICKS; tick++) {
    const y = MARGIN.top + plotHeight - (tick * plotHeight) / TICKS;
    out.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${MARGIN.left - 8}" y="${y + 4}" text-anchor="end">${format((l.max * tick) / TICKS)}</text>`);
    out.push(`<text x="${WIDTH - MARGIN.right + 8}" y="${y + 4}">${format((r.max * tick) / TICKS)}</text>`);
  }
  xValues.forEach((value, i) => {
    out.push(`<text x="${x(i)}" y="${HEIGHT - MARGIN.bottom + 20}" text-anchor="middle">${value}</text>`);
  });
  out.push(`<text x="${WIDTH / 2}" y="${HEIGHT - MARGIN.bottom + 40}" text-anchor="middle">${escape(xLabel)}</text>`);
  const vertical = (text: string, at: number) => `<text transform="translate(${at} ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escape(text)}</text>`;
  out.push(vertical(`${left.label} (${left.unit}), solid`, 18));
  out.push(vertical(`${right.label} (${right.unit}), dashed`, WIDTH - 14));
  const legend: Array<{ text: string; colour: string; dash: string }> = [];
  for (const [axis, axisScale, dash] of [[left, l, ''], [right, r, ' stroke-dasharray="6 4"']] as const) {
    for (const series of axis.series) {
      const points = series.values.map((value, i) => `${x(i)},${axisScale.y(value)}`).join(' ');
      out.push(`<polyline points="${points}" fill="none" stroke="${series.colour}" stroke-width="2"${dash}/>`);
      // No value labels: lines of the two axes cross and their labels would collide; the table has the figures.
      series.values.forEach((value, i) => out.push(`<circle cx="${x(i)}" cy="${axisScale.y(value)}" r="4" fill="${series.colour}"/>`));
      legend.push({ text: `${axis.label}, ${series.label}`, colour: series.colour, dash });
    }
  }
  // The legend under the x axis label, two entries a row.
  const slot = (WIDTH - MARGIN.left - MARGIN.right) / 2;
  legend.forEach((entry, i) => {
    const at = MARGIN.left + (i % 2) * slot;
    const y = HEIGHT - MARGIN.bottom + 64 + Math.floor(i / 2) * 18;
    out.push(`<line x1="${at}" x2="${at + 22}" y1="${y - 4}" y2="${y - 4}" stroke="${entry.colour}" stroke-width="2"${entry.dash}/>`);
    out.push(`<text x="${at + 27}" y="${y}" fill="${entry.colour}" font-size="11">${escape(entry.text)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
