/**
 * @module bench/lib/svg
 * Charts as hand-written SVG (no browser, no dependency): grouped horizontal bars, one group per
 * case and one bar per path, the value printed at the end of each bar. Throughput uses MiB/s;
 * latency draws the p50 bar with a whisker to p99.
 */
import { fmt, type CaseSummary } from './summary.js';
import { PATH_LABEL, PATHS, type PathId } from './types.js';

const COLOURS: Record<PathId, string> = {
  a: '#2b6cb0',
  b: '#2f855a',
  c: '#a0aec0',
  d: '#c05621',
  e: '#805ad5',
  f: '#b7791f',
};
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Bar {
  path: PathId;
  value: number;
  whisker?: number;
  label: string;
}

function chart(
  title: string,
  unit: string,
  groups: Array<{ name: string; bars: Bar[] }>,
  log = false,
  labels: Partial<Record<PathId, string>> = {},
): string {
  const label = (p: PathId) => labels[p] ?? PATH_LABEL[p];
  const W = 960;
  const left = 190;
  const right = 150;
  const bh = 14;
  const gap = 12;
  const top = 58;
  const plotW = W - left - right;
  const max = Math.max(1e-9, ...groups.flatMap((g) => g.bars.map((b) => b.whisker ?? b.value)));
  const min = Math.max(1e-9, Math.min(...groups.flatMap((g) => g.bars.map((b) => b.value))));
  const step = niceStep(max / 5);
  const axisMax = log ? Math.pow(10, Math.ceil(Math.log10(max))) : Math.ceil(max / step) * step;
  // Log scale: from the decade below the smallest value, so every bar is visible.
  const axisMin = log ? Math.pow(10, Math.floor(Math.log10(min))) : 0;
  const x = (v: number) =>
    log
      ? left +
        ((Math.log10(Math.max(v, axisMin)) - Math.log10(axisMin)) / (Math.log10(axisMax) - Math.log10(axisMin))) * plotW
      : left + (v / axisMax) * plotW;
  let y = top;
  const body: string[] = [];
  for (const g of groups) {
    const h = g.bars.length * bh;
    body.push(`<text x="${left - 8}" y="${y + h / 2 + 4}" text-anchor="end" class="g">${esc(g.name)}</text>`);
    for (const b of g.bars) {
      const w = Math.max(0.5, x(b.value) - left);
      body.push(
        `<rect x="${left}" y="${y + 1}" width="${w.toFixed(1)}" height="${bh - 2}" fill="${COLOURS[b.path]}"><title>${esc(`${g.name} ${label(b.path)}: ${b.label}`)}</title></rect>`,
      );
      let end = x(b.value);
      if (b.whisker !== undefined && b.whisker > b.value) {
        const xw = x(b.whisker);
        body.push(
          `<line x1="${end.toFixed(1)}" y1="${y + bh / 2}" x2="${xw.toFixed(1)}" y2="${y + bh / 2}" stroke="#333" stroke-width="1"/><line x1="${xw.toFixed(1)}" y1="${y + 3}" x2="${xw.toFixed(1)}" y2="${y + bh - 3}" stroke="#333"/>`,
        );
        end = xw;
      }
      body.push(`<text x="${(end + 4).toFixed(1)}" y="${y + bh - 3}" class="v">${esc(b.label)}</text>`);
      y += bh;
    }
    y += gap;
  }
  const height = y + 30;
  const grid: string[] = [];
  const ticks: number[] = [];
  if (log) for (let v = axisMin; v <= axisMax * 1.0001; v *= 10) ticks.push(v);
  else for (let v = 0; v <= axisMax + 1e-9; v += step) ticks.push(v);
  for (const v of ticks) {
    grid.push(
      `<line x1="${x(v).toFixed(1)}" y1="${top - 6}" x2="${x(v).toFixed(1)}" y2="${y - gap + 4}" stroke="#e2e8f0"/>`,
    );
    grid.push(
      `<text x="${x(v).toFixed(1)}" y="${y - gap + 18}" text-anchor="middle" class="v">${log ? String(Number(v.toPrecision(1))) : fmt(v)}</text>`,
    );
  }
  const used = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.path)))].sort();
  const legend = used.map(
    (p, i) =>
      `<rect x="${left + i * 150}" y="30" width="12" height="12" fill="${COLOURS[p]}"/><text x="${left + i * 150 + 17}" y="40" class="v">(${p}) ${esc(label(p))}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<style>.g{font-size:12px;fill:#1a202c}.v{font-size:11px;fill:#4a5568}.t{font-size:15px;font-weight:bold;fill:#1a202c}</style>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="20" class="t">${esc(title)}</text>`,
    ...legend,
    ...grid,
    ...body,
    `<text x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle" class="v">${esc(unit)}</text>`,
    `</svg>`,
  ].join('\n');
}

function niceStep(raw: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

export function throughputSvg(cases: CaseSummary[], subtitle: string): string {
  const groups = cases
    .filter((c) => (c.def.metric === 'throughput' || c.def.metric === 'concurrency') && c.def.group !== 'cli')
    .map((c) => ({
      name: c.def.id,
      bars: PATHS.filter((p) => c.paths[p]?.mibps !== undefined).map((p) => ({
        path: p,
        value: c.paths[p]!.mibps!,
        label: `${fmt(c.paths[p]!.mibps!)} MiB/s`,
      })),
    }))
    .filter((g) => g.bars.length);
  return chart(
    `Throughput per scenario and path (median)${subtitle ? ` · ${subtitle}` : ''}`,
    'MiB/s (higher is better)',
    groups,
  );
}

export function latencySvg(cases: CaseSummary[], subtitle: string): string {
  const groups = cases
    .filter((c) => c.def.metric === 'latency')
    .map((c) => ({
      name: c.def.id,
      bars: PATHS.filter((p) => c.paths[p]?.p50 !== undefined).map((p) => ({
        path: p,
        value: c.paths[p]!.p50!,
        whisker: c.paths[p]!.p99!,
        label: `p50 ${fmt(c.paths[p]!.p50!, 2)} · p99 ${fmt(c.paths[p]!.p99!, 2)} ms`,
      })),
    }))
    .filter((g) => g.bars.length);
  return chart(
    `Latency per scenario and path: p50 bar, p99 whisker${subtitle ? ` · ${subtitle}` : ''}`,
    'milliseconds, log scale (lower is better)',
    groups,
    true,
  );
}

/**
 * The user's view (path e): the docker CLI against kuber-api, the docker host and its in-memory
 * ceiling, MiB/s of verified stdout on a log scale (the three differ by orders of magnitude).
 */
export function cliSvg(cases: CaseSummary[], subtitle: string): string {
  const groups = cases
    .filter((c) => c.def.group === 'cli' && c.def.metric === 'throughput')
    .map((c) => ({
      name: c.def.id,
      bars: (['a', 'd', 'e'] as PathId[])
        .filter((p) => c.paths[p]?.mibps !== undefined)
        .map((p) => ({ path: p, value: c.paths[p]!.mibps!, label: `${fmt(c.paths[p]!.mibps!)} MiB/s` })),
    }))
    .filter((g) => g.bars.length);
  return chart(
    `The docker CLI's view: MiB/s of verified stdout, whole command (median)${subtitle ? ` · ${subtitle}` : ''}`,
    'MiB/s, log scale (higher is better)',
    groups,
    true,
    { a: 'CLI → kuber-api', d: 'CLI → docker host', e: 'CLI → in-memory ceiling' },
  );
}
