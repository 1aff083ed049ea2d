import { type Html, html, raw } from './html';

export interface Bar {
  label: string;
  /** null: no figure for this bar (e.g. nothing answered that day). */
  value: number | null;
}

export interface BarChartOptions {
  title: string;
  bars: Bar[];
  /** How a value is written on its bar and the axis. */
  format: (value: number) => string;
  /** The axis' top; the largest value when not given. */
  max?: number;
}

const WIDTH = 640;
const HEIGHT = 220;
const PAD = { top: 24, right: 8, bottom: 36, left: 8 };

/**
 * A bar chart as inline SVG, drawn on the server (no script): one bar per group, its value above
 * it, its label below (every few labels when there are many), and a <title> per bar for the
 * exact figure. Scales to the width of the page (viewBox), so it reads on a phone too.
 */
export function barChart(o: BarChartOptions): Html {
  const values = o.bars.map((b) => b.value).filter((v): v is number => v !== null);
  const max = o.max ?? Math.max(0, ...values);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = o.bars.length ? plotW / o.bars.length : plotW;
  const barW = Math.max(2, Math.min(48, slot * 0.7));
  const labelEvery = Math.max(1, Math.ceil(o.bars.length / 10));
  const bars = o.bars.map((b, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    const cx = (x + barW / 2).toFixed(1);
    const label = i % labelEvery === 0 ? html`<text x="${cx}" y="${HEIGHT - PAD.bottom + 14}" text-anchor="middle" class="axis">${b.label}</text>` : '';
    if (b.value === null) return html`<g>${label}<text x="${cx}" y="${PAD.top + plotH - 4}" text-anchor="middle" class="none">–</text></g>`;
    const h = max > 0 ? (b.value / max) * plotH : 0;
    const y = PAD.top + plotH - h;
    return html`<g class="bar">
      <rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(h, 0.5).toFixed(1)}"><title>${b.label}: ${o.format(b.value)}</title></rect>
      ${o.bars.length <= 16 ? html`<text x="${cx}" y="${(y - 4).toFixed(1)}" text-anchor="middle" class="value">${o.format(b.value)}</text>` : ''}
      ${label}
    </g>`;
  });
  return html`<figure class="chart card">
    <figcaption>${o.title}</figcaption>
    <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-label="${o.title}" xmlns="http://www.w3.org/2000/svg">
      ${raw(`<style>.bar rect{fill:#0b6e4f}.value{font:11px system-ui,sans-serif;fill:#1d232a}.axis{font:11px system-ui,sans-serif;fill:#5b6570}.none{font:12px system-ui,sans-serif;fill:#5b6570}</style>`)}
      <line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${WIDTH - PAD.right}" y2="${PAD.top + plotH}" stroke="#d9dee3" />
      ${bars}
    </svg>
    ${o.bars.length === 0 ? html`<p class="muted">No conversations in this period.</p>` : ''}
  </figure>`;
}
