/**
 * Draws a committed dashboard's layout from its JSON (groups, widgets on the 12-column grid, their
 * titles, formulas, metrics and markers) to an HTML page, and screenshots it with headless Chromium
 * into docs/ for the README. A dev-time tool, not part of CI:
 *
 *   apt-get install -y chromium          # once (or set CHROMIUM=/path/to/chrome)
 *   npm run assets:picture               # docs/lambda-dashboard.png
 *   npm run assets:picture -- checks/amazon_api_gateway/assets/dashboards/overview.json docs/api-gateway.png
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DashboardJson, WidgetJson } from '../../core/check/asset.js';
import { packageRoot } from '../../core/package-root.js';

const COLUMN_PX = 104;
const ROW_PX = 92;
const GAP_PX = 8;

interface Query {
  readonly name: string;
  readonly query: string;
}
interface Request {
  readonly queries?: readonly Query[];
  readonly formulas?: readonly { formula: string; alias?: string }[];
  readonly display_type?: string;
}

const escape = (text: string): string =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** `sum:aws.lambda.errors{…} by {functionname}.as_count()` → `aws.lambda.errors by functionname`. */
function shortQuery(query: string): string {
  const match = /^\w+:([\w.]+)\{([^}]*)\}(?: by \{([^}]*)\})?/.exec(query);
  if (!match) return query;
  const filters = match[2]!
    .split(',')
    .filter((f) => f !== '*' && !f.startsWith('$'))
    .join(',');
  return `${match[1]}${filters ? `{${filters}}` : ''}${match[3] ? ` by ${match[3]}` : ''}`;
}

/** A deterministic placeholder curve, so a graph tile reads as a graph. */
function sparkline(seed: string, bars: boolean): string {
  let state = [...seed].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  const next = (): number => ((state = (state * 1103515245 + 12345) >>> 0) % 1000) / 1000;
  const points = Array.from({ length: 24 }, (_, i) => [i * 10, 30 - 22 * (0.3 + 0.5 * next())] as const);
  const shape = bars
    ? points.map(([x, y]) => `<rect x="${x + 1}" y="${y}" width="7" height="${32 - y}" />`).join('')
    : `<polyline points="${points.map(([x, y]) => `${x},${y}`).join(' ')}" />`;
  return `<svg class="spark ${bars ? 'bars' : 'line'}" viewBox="0 0 240 32" preserveAspectRatio="none">${shape}</svg>`;
}

const KIND_LABEL: Readonly<Record<string, string>> = {
  timeseries: 'timeseries',
  query_value: 'query value',
  toplist: 'top list',
  query_table: 'table',
  note: 'note',
};

function widgetBody(widget: WidgetJson): string {
  const d = widget.definition;
  if (d.type === 'note') return `<div class="note">${escape(String(d.content))}</div>`;
  const requests = (d.requests as readonly Request[] | undefined) ?? [];
  const formulas = requests.flatMap((r) => r.formulas ?? []);
  const queries = [...new Set(requests.flatMap((r) => r.queries ?? []).map((q) => shortQuery(q.query)))];
  const markers = ((d.markers as readonly { value: string; label: string }[] | undefined) ?? []).map(
    (m) => `<div class="marker">┄ ${escape(m.value)} ${escape(m.label)}</div>`,
  );
  const graph =
    d.type === 'timeseries'
      ? sparkline(
          String(d.title),
          requests.some((r) => r.display_type === 'bars'),
        )
      : d.type === 'query_value'
        ? '<div class="big">123</div>'
        : '';
  return [
    graph,
    `<div class="formulas">${formulas.map((f) => escape(f.alias ? `${f.alias} = ${f.formula}` : f.formula)).join('<br>')}</div>`,
    `<div class="queries">${queries.map(escape).join('<br>')}</div>`,
    ...markers,
  ].join('');
}

function place(layout: WidgetJson['layout']): string {
  return `grid-column:${layout.x + 1} / span ${layout.width};grid-row:${layout.y + 1} / span ${layout.height}`;
}

function groupHtml(group: WidgetJson): string {
  const widgets = (group.definition.widgets as readonly WidgetJson[]).map(
    (w) =>
      `<div class="widget ${w.definition.type}" style="${place(w.layout)}">` +
      `<div class="kind">${KIND_LABEL[w.definition.type] ?? w.definition.type}</div>` +
      `<div class="title">${escape(String(w.definition.title ?? ''))}</div>${widgetBody(w)}</div>`,
  );
  return `<section class="group"><h2>${escape(String(group.definition.title))}</h2><div class="grid">${widgets.join('')}</div></section>`;
}

const STYLE = `
body{margin:0;padding:20px;background:#f3f2f7;font:13px/1.35 -apple-system,'DejaVu Sans',Arial,sans-serif;color:#28282f;width:${12 * COLUMN_PX + 11 * GAP_PX}px}
header h1{margin:0 0 4px;font-size:22px} header p{margin:0 0 10px;color:#55556a;max-width:1100px}
.vars span{display:inline-block;margin:0 6px 12px 0;padding:3px 9px;border:1px solid #c9c7d6;border-radius:4px;background:#fff;color:#632ca6}
.group{margin-bottom:14px;background:#e7e4f0;border-radius:6px;padding:8px}
.group h2{margin:0 0 8px 4px;font-size:15px;color:#3d2466}
.grid{display:grid;grid-template-columns:repeat(12,1fr);grid-auto-rows:${ROW_PX}px;gap:${GAP_PX}px}
.widget{background:#fff;border-radius:4px;padding:6px 8px;overflow:hidden;box-shadow:0 1px 2px #0002;position:relative}
.kind{position:absolute;right:8px;top:6px;font-size:10px;color:#8b89a0;text-transform:uppercase}
.title{font-weight:600;margin-right:70px;margin-bottom:3px}
.formulas{color:#3d2466;font-size:11px} .queries{color:#77768a;font-size:10.5px;font-family:'DejaVu Sans Mono',monospace}
.marker{color:#c0392b;font-size:10.5px} .big{font-size:30px;font-weight:300;color:#632ca6;float:right;margin-top:-4px}
.note{color:#444;font-size:12px} .widget.note{background:#fffbe6}
.spark{width:100%;height:28px;display:block;margin:2px 0} .spark.line polyline{fill:none;stroke:#8b5fd6;stroke-width:1.6}
.spark.bars rect{fill:#b59be6}`;

export function dashboardHtml(dashboard: DashboardJson): string {
  const description = dashboard.description.split('\n')[0] ?? '';
  const variables = dashboard.template_variables.map((v) => `<span>$${escape(v.name)}: *</span>`).join('');
  return (
    `<!doctype html><html><head><meta charset="utf-8"><style>${STYLE}</style></head><body>` +
    `<header><h1>${escape(dashboard.title)}</h1><p>${escape(description)}</p><div class="vars">${variables}</div></header>` +
    `${dashboard.widgets.map(groupHtml).join('')}</body></html>`
  );
}

function chromium(): string {
  const candidates = [
    process.env.CHROMIUM,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
  ];
  const found = candidates.find((c): c is string => c !== undefined && existsSync(c));
  if (!found)
    throw new Error('no Chromium found: apt-get install -y chromium, or set CHROMIUM=/path/to/chrome');
  return found;
}

if (process.argv[1]?.endsWith('dashboard-picture.js')) {
  const root = packageRoot();
  const source = resolve(root, process.argv[2] ?? 'checks/amazon_lambda/assets/dashboards/overview.json');
  const target = resolve(root, process.argv[3] ?? 'docs/lambda-dashboard.png');
  const dashboard = JSON.parse(readFileSync(source, 'utf8')) as DashboardJson;
  const work = mkdtempSync(join(tmpdir(), 'dogwatch-picture-'));
  const page = join(work, 'dashboard.html');
  writeFileSync(page, dashboardHtml(dashboard));
  // A group's layout height counts its title row; the page draws the title in a 40 px band instead.
  const rows = dashboard.widgets.reduce((n, g) => n + g.layout.height - 1, 0);
  const height = 150 + rows * (ROW_PX + GAP_PX) + dashboard.widgets.length * 56;
  const width = 12 * COLUMN_PX + 11 * GAP_PX + 40;
  execFileSync(
    chromium(),
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
      '--hide-scrollbars',
      `--user-data-dir=${join(work, 'profile')}`,
      `--window-size=${width},${height}`,
      `--screenshot=${target}`,
      `file://${page}`,
    ],
    { stdio: 'ignore' },
  );
  rmSync(work, { recursive: true, force: true });
  console.log(`wrote ${target} (${width}×${height}) from ${source}`);
}
