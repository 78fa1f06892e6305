import type { AssetDraft, DashboardJson, WidgetDefinitionJson, WidgetJson } from '../check/asset.js';
import type { MetricQuery, Reducer } from './metric-catalog.js';

/** Named metric queries a widget's formulas refer to (`errors / invocations * 100`). */
export type QuerySet = Readonly<Record<string, MetricQuery>>;

export type Palette = 'dog_classic' | 'warm' | 'cool' | 'purple' | 'orange' | 'grey';

export interface FormulaSpec {
  readonly formula: string;
  readonly alias?: string;
  readonly display?: 'line' | 'bars' | 'area';
  readonly palette?: Palette;
}

/** A horizontal line on a graph: a limit or a threshold. */
export interface MarkerSpec {
  readonly value: number;
  readonly label: string;
  readonly severity?: 'error' | 'warning' | 'info';
}

/** Colours a single value: above `warning` yellow, above `critical` red, else green. */
export interface ValueThresholds {
  readonly warning: number;
  readonly critical: number;
}

interface Size {
  /** Grid columns out of 12. */
  readonly width?: number;
  readonly height?: number;
}

export type WidgetSpec =
  | (Size & {
      readonly kind: 'timeseries';
      readonly title: string;
      readonly queries: QuerySet;
      readonly formulas: readonly FormulaSpec[];
      readonly markers?: readonly MarkerSpec[];
      /** An event query drawn over the graph (deployment events), e.g. `source:amazon_lambda $functionname`. */
      readonly eventOverlay?: string;
    })
  | (Size & {
      readonly kind: 'value';
      readonly title: string;
      readonly queries: QuerySet;
      readonly formula: string;
      readonly unit?: string;
      readonly precision?: number;
      readonly thresholds?: ValueThresholds;
    })
  | (Size & {
      readonly kind: 'toplist';
      readonly title: string;
      readonly queries: QuerySet;
      readonly formula: string;
    })
  | (Size & {
      readonly kind: 'table';
      readonly title: string;
      readonly queries: QuerySet;
      /** One column per formula; the first orders the rows. */
      readonly columns: readonly (FormulaSpec & { readonly alias: string })[];
    })
  | (Size & { readonly kind: 'note'; readonly content: string });

export interface GroupSpec {
  readonly title: string;
  readonly widgets: readonly WidgetSpec[];
}

export interface DashboardSpec {
  readonly stem: string;
  readonly title: string;
  readonly description: string;
  /** Tag keys offered as template variables (`$region` …), default `*`. */
  readonly templateVariables: readonly string[];
  /** `undefined` leaves a group out: a group whose metrics are not in the table yet. */
  readonly groups: readonly (GroupSpec | undefined)[];
}

const GRID_COLUMNS = 12;
const DEFAULT_SIZE: Readonly<Record<WidgetSpec['kind'], Required<Size>>> = {
  timeseries: { width: 4, height: 2 },
  value: { width: 2, height: 1 },
  toplist: { width: 4, height: 2 },
  table: { width: 12, height: 3 },
  note: { width: 4, height: 2 },
};
const MARKER_STYLE = { error: 'error dashed', warning: 'warning dashed', info: 'info dashed' } as const;
const TITLE = { title_size: '16', title_align: 'left' } as const;

interface QueryJson {
  readonly data_source: 'metrics';
  readonly name: string;
  readonly query: string;
  readonly aggregator?: Reducer;
}

/**
 * The queries the formulas name (identifiers that are query names), as the API wants them listed. A
 * query no formula uses, or a formula that uses none, is a mistake in the description: it throws.
 */
function queriesFor(
  spec: { readonly title: string; readonly queries: QuerySet },
  formulas: readonly string[],
  scalar: boolean,
): QueryJson[] {
  const used = new Map<string, QueryJson>();
  for (const formula of formulas) {
    const names = Object.keys(spec.queries).filter((name) => new RegExp(`\\b${name}\\b`).test(formula));
    if (names.length === 0) throw new Error(`widget "${spec.title}": "${formula}" uses none of its queries`);
    for (const name of names) {
      const { query, reducer } = spec.queries[name]!;
      used.set(name, { data_source: 'metrics', name, query, ...(scalar ? { aggregator: reducer } : {}) });
    }
  }
  return [...used.values()];
}

function assertEveryQueryUsed(
  spec: { readonly title: string; readonly queries: QuerySet },
  formulas: readonly string[],
): void {
  const used = new Set(queriesFor(spec, formulas, false).map((q) => q.name));
  const unused = Object.keys(spec.queries).filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`widget "${spec.title}": queries ${unused.join(', ')} are not used`);
}

function thresholdFormats(thresholds: ValueThresholds): object[] {
  return [
    { comparator: '>', value: thresholds.critical, palette: 'white_on_red' },
    { comparator: '>', value: thresholds.warning, palette: 'white_on_yellow' },
    { comparator: '<=', value: thresholds.warning, palette: 'white_on_green' },
  ];
}

type Spec<K extends WidgetSpec['kind']> = Extract<WidgetSpec, { kind: K }>;

function timeseriesDefinition(spec: Spec<'timeseries'>): WidgetDefinitionJson {
  return {
    type: 'timeseries',
    title: spec.title,
    ...TITLE,
    show_legend: true,
    legend_layout: 'auto',
    legend_columns: ['avg', 'min', 'max', 'value', 'sum'],
    requests: spec.formulas.map((f) => ({
      response_format: 'timeseries',
      queries: queriesFor(spec, [f.formula], false),
      formulas: [{ formula: f.formula, ...(f.alias ? { alias: f.alias } : {}) }],
      display_type: f.display ?? 'line',
      style: { palette: f.palette ?? 'dog_classic', line_type: 'solid', line_width: 'normal' },
    })),
    ...(spec.eventOverlay ? { events: [{ q: spec.eventOverlay }] } : {}),
    ...(spec.markers?.length
      ? {
          markers: spec.markers.map((m) => ({
            value: `y = ${m.value}`,
            display_type: MARKER_STYLE[m.severity ?? 'error'],
            label: m.label,
          })),
        }
      : {}),
  };
}

function valueDefinition(spec: Spec<'value'>): WidgetDefinitionJson {
  const formats = spec.thresholds ? { conditional_formats: thresholdFormats(spec.thresholds) } : {};
  return {
    type: 'query_value',
    title: spec.title,
    ...TITLE,
    autoscale: true,
    precision: spec.precision ?? 0,
    ...(spec.unit ? { custom_unit: spec.unit } : {}),
    requests: [
      {
        response_format: 'scalar',
        queries: queriesFor(spec, [spec.formula], true),
        formulas: [{ formula: spec.formula, ...formats }],
      },
    ],
  };
}

function toplistDefinition(spec: Spec<'toplist'>): WidgetDefinitionJson {
  return {
    type: 'toplist',
    title: spec.title,
    ...TITLE,
    requests: [
      {
        response_format: 'scalar',
        queries: queriesFor(spec, [spec.formula], true),
        formulas: [{ formula: spec.formula, limit: { count: 10, order: 'desc' } }],
      },
    ],
  };
}

function tableDefinition(spec: Spec<'table'>): WidgetDefinitionJson {
  return {
    type: 'query_table',
    title: spec.title,
    ...TITLE,
    has_search_bar: 'auto',
    requests: [
      {
        response_format: 'scalar',
        queries: queriesFor(
          spec,
          spec.columns.map((c) => c.formula),
          true,
        ),
        formulas: spec.columns.map((c, i) => ({
          formula: c.formula,
          alias: c.alias,
          // The first column orders the rows.
          ...(i === 0 ? { limit: { count: 50, order: 'desc' } } : {}),
        })),
      },
    ],
  };
}

function noteDefinition(spec: Spec<'note'>): WidgetDefinitionJson {
  return {
    type: 'note',
    content: spec.content,
    background_color: 'white',
    font_size: '14',
    text_align: 'left',
    vertical_align: 'top',
    show_tick: false,
    tick_pos: '50%',
    tick_edge: 'left',
    has_padding: true,
  };
}

function definitionOf(spec: WidgetSpec): WidgetDefinitionJson {
  switch (spec.kind) {
    case 'timeseries':
      assertEveryQueryUsed(
        spec,
        spec.formulas.map((f) => f.formula),
      );
      return timeseriesDefinition(spec);
    case 'value':
      assertEveryQueryUsed(spec, [spec.formula]);
      return valueDefinition(spec);
    case 'toplist':
      assertEveryQueryUsed(spec, [spec.formula]);
      return toplistDefinition(spec);
    case 'table':
      assertEveryQueryUsed(
        spec,
        spec.columns.map((c) => c.formula),
      );
      return tableDefinition(spec);
    case 'note':
      return noteDefinition(spec);
  }
}

/** Places widgets left to right on the 12-column grid, starting a new row when one does not fit. */
function flow(specs: readonly WidgetSpec[]): { widgets: WidgetJson[]; height: number } {
  const widgets: WidgetJson[] = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const spec of specs) {
    const width = Math.min(spec.width ?? DEFAULT_SIZE[spec.kind].width, GRID_COLUMNS);
    const height = spec.height ?? DEFAULT_SIZE[spec.kind].height;
    if (x + width > GRID_COLUMNS) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    widgets.push({ definition: definitionOf(spec), layout: { x, y, width, height } });
    x += width;
    rowHeight = Math.max(rowHeight, height);
  }
  return { widgets, height: y + rowHeight };
}

/** A dashboard in the Dashboards API's JSON: an ordered layout of titled groups. */
export function dashboard(spec: DashboardSpec): AssetDraft {
  const widgets: WidgetJson[] = [];
  let y = 0;
  for (const group of spec.groups) {
    if (!group) continue;
    const inner = flow(group.widgets);
    // The group's own height includes its title bar (one row).
    const height = inner.height + 1;
    widgets.push({
      definition: {
        type: 'group',
        title: group.title,
        layout_type: 'ordered',
        show_title: true,
        widgets: inner.widgets,
      },
      layout: { x: 0, y, width: GRID_COLUMNS, height },
    });
    y += height;
  }
  const body: DashboardJson = {
    title: spec.title,
    description: spec.description,
    layout_type: 'ordered',
    reflow_type: 'fixed',
    template_variables: spec.templateVariables.map((name) => ({
      name,
      prefix: name,
      available_values: [],
      default: '*',
    })),
    widgets,
  };
  return { kind: 'dashboard', stem: spec.stem, body };
}
