import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LAMBDA_SCOPE_TAGS, lambdaAssets } from '../../checks/amazon_lambda/assets.js';
import type { Asset, WidgetJson } from '../../core/check/asset.js';
import { planInstall } from '../../core/assets/asset-installer.js';
import {
  buildAssets,
  dashboardKeyOf,
  finishAsset,
  monitorKeyOf,
  selectAssets,
  type AssetSource,
} from '../../core/assets/asset-set.js';
import { dashboard } from '../../core/assets/dashboard-builder.js';
import { datadogSite } from '../../core/assets/datadog-site.js';
import { MetricCatalog } from '../../core/assets/metric-catalog.js';
import { monitor } from '../../core/assets/monitor-builder.js';
import type { MetricRow } from '../../core/cloudwatch/metric-table.js';
import { createSilentLogger } from '../../core/log/logger.js';
import { InstanceSubmitter } from '../../core/runtime/instance-submitter.js';
import { MemorySink } from '../../core/sink/memory-sink.js';
import { metricTable } from '../support/world-truth.js';
import { builtinAssets } from '../tools/write-assets.js';

const lambdaRows = metricTable('amazon_lambda');
const lambdaCatalog = (namespace?: string, rows: readonly MetricRow[] = lambdaRows) =>
  MetricCatalog.fromMetricTable(rows, LAMBDA_SCOPE_TAGS, namespace ? { namespace } : {});

test('a query names a metric of the table, with the tags, unit and type the table gives it', () => {
  const q = lambdaCatalog().forDashboard(['region', 'aws_account', 'functionname', 'env']);
  assert.equal(
    q.sum('aws.lambda.errors', { by: ['functionname'] }).query,
    'sum:aws.lambda.errors{$region,$aws_account,$functionname,$env} by {functionname}.as_count()',
  );
  // Account-wide series have no functionname: the variable would empty them.
  assert.equal(
    q.max('aws.lambda.concurrent_executions_global.maximum').query,
    'max:aws.lambda.concurrent_executions_global.maximum{$region,$aws_account,$env}',
  );
  assert.equal(q.avg('aws.lambda.duration.p50').reducer, 'avg');
  assert.equal(q.sum('aws.lambda.invocations').reducer, 'sum');
  assert.throws(() => q.sum('aws.lambda.invocation'), /aws\.lambda\.invocation is not in the metric table/);
  assert.throws(
    () => q.max('aws.lambda.timeout', { unit: 'millisecond' }),
    /in "second".*assumes "millisecond"/,
  );
  assert.throws(() => q.sum('aws.lambda.errors', { by: ['apiname'] }), /carry no "apiname" tag/);
  assert.throws(() => q.sum('aws.lambda.errors', { filter: ['stage:prod'] }), /carry no "stage" tag/);
  assert.throws(
    () =>
      lambdaCatalog()
        .forMonitors()
        .max('aws.lambda.concurrent_executions_global', { by: ['functionname'] }),
    /carry no "functionname"/,
  );
});

test('a namespaced query uses the name the runtime sends; self-metrics stay unprefixed', () => {
  const sink = new MemorySink();
  const submitter = new InstanceSubmitter(sink, {
    namespace: 'Team-A',
    tags: [],
    emptyHostname: true,
    logger: createSilentLogger(),
  });
  submitter.count('aws.lambda.errors', 1);
  const sent = sink.metrics()[0]!.metric;
  assert.equal(sent, 'Team_A.aws.lambda.errors');
  const catalog = lambdaCatalog('Team-A');
  assert.equal(catalog.emittedName('aws.lambda.errors'), sent);
  assert.match(
    catalog.forMonitors().sum('aws.lambda.errors').query,
    /^sum:Team_A\.aws\.lambda\.errors\{\*\}/,
  );
  const withSelf = new MetricCatalog(
    [{ name: 'dogwatch.check.runs', type: 'count', unit: 'run', tags: [] }],
    {
      namespace: 'Team-A',
    },
  );
  assert.equal(withSelf.emittedName('dogwatch.check.runs'), 'dogwatch.check.runs');
});

test('the cold-start and cost group appears once the enhanced metrics are in the table', () => {
  const groupTitles = (assets: readonly { kind: string; body: unknown }[]) =>
    (assets.find((a) => a.kind === 'dashboard')!.body as { widgets: WidgetJson[] }).widgets.map(
      (w) => w.definition.title,
    );
  const withoutEnhanced = lambdaRows.filter((r) => !r.metricName.startsWith('aws.lambda.enhanced.'));
  assert.ok(withoutEnhanced.length < lambdaRows.length, 'the table has the enhanced metrics');
  assert.ok(
    !groupTitles(lambdaAssets(lambdaCatalog(undefined, withoutEnhanced))).includes('Cold starts and cost'),
  );
  const titles = groupTitles(lambdaAssets(lambdaCatalog()));
  assert.ok(titles.includes('Cold starts and cost'), titles.join(', '));
});

/** Cells of the 12-column grid a list of widgets covers; throws on an overlap or an overflow. */
function assertTiles(widgets: readonly WidgetJson[], where: string): void {
  const taken = new Set<string>();
  for (const { layout, definition } of widgets) {
    assert.ok(
      layout.x >= 0 && layout.x + layout.width <= 12,
      `${where}: ${definition.title ?? definition.type} overflows`,
    );
    for (let x = layout.x; x < layout.x + layout.width; x++)
      for (let y = layout.y; y < layout.y + layout.height; y++) {
        assert.ok(
          !taken.has(`${x},${y}`),
          `${where}: ${definition.title ?? definition.type} overlaps another widget`,
        );
        taken.add(`${x},${y}`);
      }
  }
}

test('every dashboard lays its groups and widgets on the grid without overlap', () => {
  for (const asset of builtinAssets()) {
    if (asset.kind !== 'dashboard') continue;
    assertTiles(asset.body.widgets, asset.key);
    for (const group of asset.body.widgets) {
      assertTiles(group.definition.widgets as WidgetJson[], `${asset.key} / ${group.definition.title}`);
    }
  }
});

test('a widget whose queries and formulas do not match is refused', () => {
  const q = lambdaCatalog().forDashboard([]);
  const build = (queries: Record<string, ReturnType<typeof q.sum>>, formula: string) =>
    dashboard({
      stem: 's',
      title: 't',
      description: '',
      templateVariables: [],
      groups: [{ title: 'g', widgets: [{ kind: 'value', title: 'w', queries, formula }] }],
    });
  assert.throws(
    () => build({ errors: q.sum('aws.lambda.errors') }, 'invocations'),
    /uses none of its queries/,
  );
  assert.throws(
    () =>
      build({ errors: q.sum('aws.lambda.errors'), invocations: q.sum('aws.lambda.invocations') }, 'errors'),
    /queries invocations are not used/,
  );
});

test('a monitor states its critical threshold once, in the query and the options, warning first', () => {
  for (const asset of builtinAssets()) {
    if (asset.kind !== 'monitor') continue;
    const { query, options } = asset.body;
    const match = /(>=|<=|>|<) (-?[\d.]+)$/.exec(query);
    assert.equal(Number(match?.[2]), options.thresholds.critical, asset.key);
  }
  const spec = {
    stem: 's',
    name: 'n',
    reducer: 'sum',
    window: 'last_5m',
    expression: 'sum:aws.lambda.errors{*}.as_count()',
    message: '',
    evaluationDelay: 0,
  } as const;
  assert.throws(
    () => monitor({ ...spec, comparator: '>', critical: 5, warning: 10 }),
    /warning 10 must come before/,
  );
  assert.throws(
    () => monitor({ ...spec, comparator: '<', critical: 5, warning: 1 }),
    /warning 1 must come before/,
  );
  assert.doesNotThrow(() => monitor({ ...spec, comparator: '<', critical: 1, warning: 5 }));
});

const source = (owner: string, namespaced: boolean): AssetSource => ({
  owner,
  namespaced,
  build: () => [
    monitor({
      stem: 'm',
      name: 'Errors',
      reducer: 'sum',
      window: 'last_5m',
      expression: 'sum:aws.lambda.errors{*}.as_count()',
      comparator: '>',
      critical: 1,
      message: '',
      evaluationDelay: 0,
    }),
    dashboard({ stem: 'd', title: 'Board', description: 'About it.', templateVariables: [], groups: [] }),
  ],
});

test('assets are named, marked and built once per namespace; a non-namespaced source once', () => {
  const assets = buildAssets([source('amazon_lambda', true), source('dogwatch', false)], (owner) =>
    owner === 'amazon_lambda' ? [undefined, 'Team_A'] : ['ignored'],
  );
  assert.deepEqual(
    assets.map((a) => a.key),
    [
      'amazon_lambda/monitors/m',
      'amazon_lambda/dashboards/d',
      'team_a:amazon_lambda/monitors/m',
      'team_a:amazon_lambda/dashboards/d',
      'dogwatch/monitors/m',
      'dogwatch/dashboards/d',
    ],
  );
  const [plainMonitor, plainBoard, nsMonitor, nsBoard] = assets as [Asset, Asset, Asset, Asset];
  assert.equal(nsBoard.title, 'Board [namespace Team_A]');
  assert.equal(nsMonitor.title, 'Errors [namespace Team_A]');
  assert.equal(
    plainBoard.kind === 'dashboard' && dashboardKeyOf(plainBoard.body.description),
    'amazon_lambda/dashboards/d',
  );
  assert.equal(
    nsBoard.kind === 'dashboard' && dashboardKeyOf(nsBoard.body.description),
    'team_a:amazon_lambda/dashboards/d',
  );
  assert.equal(
    plainMonitor.kind === 'monitor' && monitorKeyOf(plainMonitor.body.tags),
    'amazon_lambda/monitors/m',
  );
  assert.ok(plainMonitor.kind === 'monitor' && plainMonitor.body.tags.includes('created_by:dogwatch'));
  assert.equal(dashboardKeyOf('made by hand'), undefined);
  assert.throws(
    () => buildAssets([source('x', true), source('x', true)]),
    /two assets are named x\/monitors\/m/,
  );
});

test('a command line selects assets by name, key or prefix, and says which name was meant', () => {
  const assets = [
    ...builtinAssets(),
    finishAsset('amazon_lambda', { namespace: 'foo' }, lambdaAssets(lambdaCatalog('foo'))[0]!),
  ];
  const keys = (patterns: string[]) => selectAssets(assets, patterns).map((a) => a.key);
  assert.deepEqual(keys(['amazon_lambda/monitors/timeout']), ['amazon_lambda/monitors/timeout']);
  assert.deepEqual(keys(['foo:amazon_lambda/dashboards/overview']), [
    'foo:amazon_lambda/dashboards/overview',
  ]);
  assert.ok(keys(['amazon_lambda']).every((k) => k.includes('amazon_lambda/')));
  assert.ok(keys(['dogwatch/monitors/']).every((k) => k.startsWith('dogwatch/monitors/')));
  assert.equal(keys(['amazon_lambda/dashboards/overview']).length, 2, 'the name matches both namespaces');
  assert.equal(keys([]).length, assets.length);
  assert.throws(
    () => keys(['amazon_lambda/monitors/timout']),
    /did you mean amazon_lambda\/monitors\/timeout\?/,
  );
  assert.throws(() => keys(['amazon_lamb']), /no asset is named "amazon_lamb"/);
});

test('install plans: create what is missing, update what carries our mark and title, never guess', () => {
  const assets = builtinAssets().filter((a) => a.name.startsWith('amazon_rekognition/'));
  const board = assets.find((a) => a.kind === 'dashboard')!;
  const [throttled, errors] = assets.filter((a) => a.kind === 'monitor') as [Asset, Asset];
  const mark = board.kind === 'dashboard' ? board.body.description : '';
  const tagsOf = (a: Asset) => (a.kind === 'monitor' ? a.body.tags : []);
  const plan = planInstall(
    assets,
    [
      { id: 'same-title', title: board.title, description: 'made by hand' },
      { id: 'clone', title: `Clone of ${board.title}`, description: mark },
    ],
    [
      { id: 1, name: throttled.title, tags: tagsOf(throttled) },
      { id: 2, name: errors.title, tags: tagsOf(errors) },
      { id: 3, name: errors.title, tags: tagsOf(errors) },
      { id: 4, name: 'renamed by the team', tags: tagsOf(throttled) },
    ],
  );
  assert.deepEqual(
    plan.map((s) => [s.asset.key, s.action, s.action === 'update' ? s.id : undefined]),
    [
      [board.key, 'create', undefined],
      [throttled.key, 'update', 1],
      [errors.key, 'skip', undefined],
    ],
  );
  assert.match((plan[2] as { reason: string }).reason, /2 monitors carry its mark and title \(ids 2, 3\)/);
});

test('DD_SITE: the client’s sites, datadoghq.com when unset, a hint for a typo or a copied URL', () => {
  assert.equal(datadogSite(undefined), 'datadoghq.com');
  assert.equal(datadogSite(' '), 'datadoghq.com');
  assert.equal(datadogSite('DatadogHQ.eu'), 'datadoghq.eu');
  assert.equal(datadogSite('us5.datadoghq.com'), 'us5.datadoghq.com');
  assert.throws(
    () => datadogSite('datadoghq.con'),
    /not a Datadog site \(did you mean datadoghq\.com\?\)\. Valid sites: /,
  );
  assert.throws(() => datadogSite('https://app.datadoghq.eu/'), /did you mean datadoghq\.eu\?/);
  assert.throws(
    () => datadogSite('example.org'),
    (e: Error) => !e.message.includes('did you mean'),
  );
});
