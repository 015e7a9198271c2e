/**
 * A small SVG line chart with two y axes (left: throughput, right: p99 latency) over a few x values, written as
 * text so the scaling run needs no charting dependency and its output reads well in a diff.
 */
export interface ChartSeries {
  label: string;
  unit: string;
  colour: string;
  values: number[];
}

const WIDTH = 640;
const HEIGHT = 360;
const MARGIN = { top: 48, right: 72, bottom: 56, left: 72 };
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

export function lineChart(title: string, xLabel: string, xValues: number[], left: ChartSeries, right: ChartSeries): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  // x values are categories (1, 2, 4 instances), evenly spaced.
  const x = (i: number) => MARGIN.left + (xValues.length === 1 ? plotWidth / 2 : (i * plotWidth) / (xValues.length - 1));
  const axis = (series: ChartSeries) => {
    const max = niceMax(Math.max(...series.values.filter(Number.isFinite)));
    return { max, y: (value: number) => MARGIN.top + plotHeight - (value / max) * plotHeight };
  };
  const [l, r] = [axis(left), axis(right)];
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`);
  out.push(`<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15">${escape(title)}</text>`);
  for (let tick = 0; tick <= TICKS; tick++) {
    const y = MARGIN.top + plotHeight - (tick * plotHeight) / TICKS;
    out.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${MARGIN.left - 8}" y="${y + 4}" text-anchor="end" fill="${left.colour}">${format((l.max * tick) / TICKS)}</text>`);
    out.push(`<text x="${WIDTH - MARGIN.right + 8}" y="${y + 4}" fill="${right.colour}">${format((r.max * tick) / TICKS)}</text>`);
  }
  xValues.forEach((value, i) => {
    out.push(`<text x="${x(i)}" y="${HEIGHT - MARGIN.bottom + 20}" text-anchor="middle">${value}</text>`);
  });
  out.push(`<text x="${WIDTH / 2}" y="${HEIGHT - 14}" text-anchor="middle">${escape(xLabel)}</text>`);
  const vertical = (text: string, at: number, colour: string) =>
    `<text transform="translate(${at} ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" fill="${colour}">${escape(text)}</text>`;
  out.push(vertical(`${left.label} (${left.unit})`, 18, left.colour));
  out.push(vertical(`${right.label} (${right.unit})`, WIDTH - 14, right.colour));
  for (const [series, scale, dash] of [[left, l, ''], [right, r, ' stroke-dasharray="6 4"']] as const) {
    const points = series.values.map((value, i) => `${x(i)},${scale.y(value)}`).join(' ');
    out.push(`<polyline points="${points}" fill="none" stroke="${series.colour}" stroke-width="2"${dash}/>`);
    series.values.forEach((value, i) => {
      out.push(`<circle cx="${x(i)}" cy="${scale.y(value)}" r="4" fill="${series.colour}"/>`);
      out.push(`<text x="${x(i)}" y="${scale.y(value) - 9}" text-anchor="middle" fill="${series.colour}">${format(value)}</text>`);
    });
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
