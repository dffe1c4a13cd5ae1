/**
 * A dependency-free SVG bar chart: one panel per group, horizontal bars scaled to the group's own
 * maximum (throughput, latency and memory differ by orders of magnitude), each labelled with its
 * value.
 *
 *   barChart('benchmarks', [{ title: 'ingest', unit: '/s', bars: [['raw', 654], ['Tributary', 538]] }])  --> '<svg …>'
 */
export interface ChartGroup {
  readonly title: string;
  readonly unit: string;
  readonly bars: ReadonlyArray<readonly [string, number]>;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2'];

export function barChart(title: string, groups: readonly ChartGroup[]): string {
  const width = 760;
  const labelWidth = 230;
  const barArea = width - labelWidth - 120;
  const barHeight = 18;
  let y = 40;
  const parts: string[] = [`<text x="12" y="24" font-size="16" font-weight="bold">${escape(title)}</text>`];
  for (const group of groups) {
    parts.push(`<text x="12" y="${y + 14}" font-size="13" font-weight="bold">${escape(group.title)}</text>`);
    y += 22;
    const top = Math.max(1, ...group.bars.map(([, v]) => v));
    group.bars.forEach(([label, value], i) => {
      const w = Math.max(1, Math.round((value / top) * barArea));
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + 13}" font-size="12" text-anchor="end">${escape(label)}</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${w}" height="${barHeight}" fill="${COLOURS[i % COLOURS.length]}"/>`,
        `<text x="${labelWidth + w + 6}" y="${y + 13}" font-size="12">${escape(`${Math.round(value).toLocaleString('en-US')}${group.unit}`)}</text>`,
      );
      y += barHeight + 6;
    });
    y += 12;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}
