// A small SVG line chart (no dependencies): series of numbers against their index.

export interface Series { name: string; values: readonly number[]; color: string }

export function lineChart(series: readonly Series[], o: { title: string; xLabel: string; yLabel: string; width?: number; height?: number }): string {
  const W = o.width ?? 640, H = o.height ?? 360, L = 60, R = 20, T = 40, B = 50;
  const all = series.flatMap((s) => s.values.filter(Number.isFinite));
  const n = Math.max(2, ...series.map((s) => s.values.length));
  const lo = Math.min(0, ...all), hi = Math.max(...all, lo + 1e-9);
  const x = (i: number) => L + (i / (n - 1)) * (W - L - R);
  const y = (v: number) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const ticks = Array.from({ length: 5 }, (_, i) => lo + ((hi - lo) * i) / 4);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`,
    ...ticks.map((v) => `<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${+v.toPrecision(3)}</text>` +
      `<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#eee"/>`),
    ...Array.from({ length: 5 }, (_, i) => Math.round(((n - 1) * i) / 4)).map((i) =>
      `<text x="${x(i)}" y="${H - B + 16}" text-anchor="middle">${i + 1}</text>` +
      `<line x1="${x(i)}" y1="${H - B}" x2="${x(i)}" y2="${H - B + 4}" stroke="#333"/>`),
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text x="16" y="${H / 2}" text-anchor="middle" transform="rotate(-90 16 ${H / 2})">${esc(o.yLabel)}</text>`,
  ];
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : '')).filter(Boolean);
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    parts.push(`<text x="${W - R - 4}" y="${T + 14 + 16 * k}" text-anchor="end" fill="${s.color}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
