// A grouped bar chart as hand-written SVG: one group per workload, one bar per implementation,
// log-scaled time axis (ms, lower is better), the value written above each bar and "n/a" where an
// implementation did not run a workload.

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v) => (Math.round(v * 10) / 10).toString();

export const PALETTE = ['#e4572e', '#4c78a8', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#9d755d', '#bab0ac'];

/**
 * groups: [{ label, sublabel?, values: (number | null)[] }] — values in the order of `series`;
 * series: [{ name, color }].
 */
export function groupedBarChart({ title, subtitle, footnote, yLabel, groups, series, format = (v) => String(v) }) {
  const margin = { left: 72, right: 24, top: 96, bottom: footnote ? 84 : 64 };
  const groupW = Math.max(150, series.length * 26 + 40);
  const plotW = groups.length * groupW, plotH = 340;
  const width = margin.left + plotW + margin.right, height = margin.top + plotH + margin.bottom;

  const values = groups.flatMap((g) => g.values).filter((v) => v != null && v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)) + 0.35); // headroom for the value labels
  const y = (v) => margin.top + plotH - ((Math.log10(v) - lo) / (hi - lo)) * plotH;
  const out = [];
  const add = (s) => out.push(s);

  add(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  add(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  add(`<text x="${margin.left}" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`);
  if (subtitle) add(`<text x="${margin.left}" y="42" fill="#555">${esc(subtitle)}</text>`);

  // Legend, in one row (wrapping when needed).
  let lx = margin.left, ly = 64;
  for (const s of series) {
    const w = 22 + s.name.length * 6.6;
    if (lx + w > width - margin.right) { lx = margin.left; ly += 18; }
    add(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${s.color}"/>`);
    add(`<text x="${lx + 16}" y="${ly}">${esc(s.name)}</text>`);
    lx += w + 12;
  }

  // Log grid: decades solid, 2× and 5× dotted.
  for (let d = lo; d <= hi; d++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** d;
      if (Math.log10(v) > hi + 1e-9) continue;
      const yy = num(y(v));
      add(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${yy}" y2="${yy}" stroke="${m === 1 ? '#bbb' : '#e4e4e4'}"${m === 1 ? '' : ' stroke-dasharray="2,3"'}/>`);
      add(`<text x="${margin.left - 6}" y="${num(y(v) + 4)}" text-anchor="end" fill="${m === 1 ? '#333' : '#999'}" font-size="${m === 1 ? 11 : 9}">${esc(format(v))}</text>`);
    }
  }
  add(`<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(yLabel)}</text>`);

  // Bars.
  const barW = (groupW - 40) / series.length;
  groups.forEach((g, gi) => {
    const x0 = margin.left + gi * groupW + 20;
    g.values.forEach((v, si) => {
      const x = x0 + si * barW;
      const cx = num(x + barW / 2);
      if (v == null || !(v > 0)) {
        add(`<text transform="translate(${num(x + barW / 2 + 3)} ${margin.top + plotH - 4}) rotate(-90)" fill="#999" font-size="10">n/a</text>`);
        return;
      }
      const top = y(v);
      add(`<rect x="${num(x + 1)}" y="${num(top)}" width="${num(barW - 2)}" height="${num(margin.top + plotH - top)}" fill="${series[si].color}"><title>${esc(`${g.label} — ${series[si].name}: ${format(v)} ms`)}</title></rect>`);
      add(`<text transform="translate(${num(Number(cx) + 3.5)} ${num(top - 4)}) rotate(-90)" font-size="10" fill="#222">${esc(format(v))}</text>`);
    });
    const gx = num(margin.left + gi * groupW + groupW / 2);
    add(`<text x="${gx}" y="${margin.top + plotH + 20}" text-anchor="middle" font-weight="bold">${esc(g.label)}</text>`);
    if (g.sublabel) add(`<text x="${gx}" y="${margin.top + plotH + 36}" text-anchor="middle" fill="#555" font-size="11">${esc(g.sublabel)}</text>`);
  });
  add(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#333"/>`);
  add(`<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#333"/>`);
  if (footnote) add(`<text x="${margin.left}" y="${height - 10}" fill="#555" font-size="11">${esc(footnote)}</text>`);
  add('</svg>');
  return `${out.join('\n')}\n`;
}
