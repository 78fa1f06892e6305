/**
 * The assets query what dogwatch really sends. The three checks collect the emulator's small world
 * through the daemon's run path (InstanceRunner, SelfTelemetry and the global tags from DD_ENV …, as
 * core/runtime/daemon.ts wires them) into a MemorySink; then every query of every dashboard and monitor
 * is parsed on its own (not through the generator's catalog) and held to what arrived: each metric is in
 * its check's metadata.csv or a self-metric the README documents, `.as_count()` is on counts and only
 * there, and each tag a query filters or groups by is a tag key that metric's samples carried.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Asset } from '../../core/check/asset.js';
import { builtinChecksModule } from '../../checks/index.js';
import { buildAssets, checkAssetSources } from '../../core/assets/asset-set.js';
import { selfAssetSource } from '../../core/assets/self-assets.js';
import { ManualClock } from '../../core/clock.js';
import { loadConfd } from '../../core/config/confd-loader.js';
import { checkDefinitions, createRootContainer } from '../../core/container.js';
import { createSilentLogger } from '../../core/log/logger.js';
import { packageRoot } from '../../core/package-root.js';
import { InstanceRunner } from '../../core/runtime/instance-runner.js';
import { SelfTelemetry } from '../../core/runtime/self-telemetry.js';
import { MemoryLogSink } from '../../core/logs-sink/memory-log-sink.js';
import { MemorySink } from '../../core/sink/memory-sink.js';
import { StatusRegistry } from '../../core/status/status-registry.js';
import { SelfTelemetryToken } from '../../core/tokens.js';
import { AwsEmulator, SMALL_WORLD } from '../../emulator/index.js';
import { useEmulatorCredentials } from '../support/collection-harness.js';
import { TempWorkspace, testSettings } from '../support/daemon-harness.js';
import { metricTable } from '../support/world-truth.js';
import { builtinDefinitions } from '../tools/write-conf-examples.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const CHECKS = ['amazon_lambda', 'amazon_api_gateway', 'amazon_rekognition'];
const NAMESPACE = 'team_a';

/** Tag keys each metric's samples carried in the run, and the DogStatsD type it was sent as. */
const sent = new Map<string, Set<string>>();
const sentType = new Map<string, string>();
let emulator: AwsEmulator;
let workspace: TempWorkspace;

before(async () => {
  useEmulatorCredentials();
  const clock = new ManualClock(T0);
  emulator = new AwsEmulator({ clock, world: { ...SMALL_WORLD, createdAtMs: T0 - 6 * 3600_000 } });
  const endpoint = await emulator.start();
  workspace = new TempWorkspace();
  for (const check of CHECKS) {
    // Lambda also has an instance with enhanced metrics (from its logs), so their queries are checked too.
    const enhanced =
      check === 'amazon_lambda'
        ? `  - name: enhanced\n    endpoint_url: ${endpoint}\n    regions: [us-east-1]\n    collect_logs: true\n` +
          '    enhanced_metrics: true\n    metrics: {include: ["aws.lambda.invocations"]}\n'
        : '';
    workspace.writeConf(
      check,
      `instances:\n  - endpoint_url: ${endpoint}\n    regions: [us-east-1, eu-west-1, ap-northeast-1, us-west-2]\n${enhanced}`,
    );
  }
  const settings = testSettings(workspace, { DD_ENV: 'test', DD_SERVICE: 'dogwatch', DD_VERSION: '1.0' });
  const sink = new MemorySink();
  const status = new StatusRegistry();
  const container = createRootContainer({
    clock,
    logger: createSilentLogger(),
    status,
    stateDir: settings.stateDir,
    modules: [builtinChecksModule],
  });
  const telemetry = new SelfTelemetry(sink, settings.tags);
  container.bind(SelfTelemetryToken).toConstantValue(telemetry);
  const { instances, problems } = await loadConfd({
    confdDir: settings.confdPath,
    definitions: checkDefinitions(container),
    env: process.env,
  });
  assert.deepEqual(problems.map(String), []);
  const runners = instances.map(
    (instance) =>
      new InstanceRunner({
        instance,
        root: container,
        sink,
        status,
        logger: createSilentLogger(),
        globalTags: settings.tags,
        runTimeoutMs: 60_000,
        telemetry,
        logSink: new MemoryLogSink(),
      }),
  );
  telemetry.reportSink(sink.stats());
  for (let run = 0; run < 3; run++) {
    for (const runner of runners) assert.ok((await runner.run()).ok);
    clock.advance(MINUTE);
  }
  // Failing, timed-out and skipped runs send their own self-metrics: a run with a 1 ms timeout, and a
  // second run asked for while it is still going.
  const hurried = new InstanceRunner({
    instance: instances[0]!,
    root: container,
    sink,
    status,
    logger: createSilentLogger(),
    globalTags: settings.tags,
    runTimeoutMs: 1,
    telemetry,
  });
  const [timedOut, skipped] = await Promise.all([hurried.run(), hurried.run()]);
  // Enhanced metrics are sent once a minute can no longer change (the logs' 10-minute horizon plus the
  // function's timeout, at most 15 minutes): half an hour later, the first minutes are.
  clock.advance(30 * MINUTE);
  const enhanced = runners[instances.findIndex((instance) => instance.name === 'enhanced')];
  assert.ok(enhanced && (await enhanced.run()).ok);
  assert.ok(timedOut.timedOut && !skipped.ok);
  telemetry.reportSink(sink.stats());
  for (const runner of [...runners, hurried]) await runner.dispose();
  await container.unbindAllAsync();
  for (const sample of sink.metrics()) {
    const keys = sent.get(sample.metric) ?? new Set<string>();
    for (const tag of sample.tags) keys.add(tag.split(':')[0]!);
    sent.set(sample.metric, keys);
    sentType.set(sample.metric, sample.type);
  }
});

after(async () => {
  await emulator.stop();
  workspace.cleanup();
});

interface ParsedQuery {
  readonly metric: string;
  /** Tag keys it filters on: `key:value` filters and `$variable` template variables. */
  readonly filters: readonly string[];
  readonly variables: readonly string[];
  readonly by: readonly string[];
  readonly asCount: boolean;
}

const METRIC_QUERY =
  /(sum|avg|min|max):([A-Za-z][\w.]*)\{([^{}]*)\}(?: by \{([^{}]*)\})?((?:\.[a-z_]+\([^()]*\))*)/g;

/** The metric queries in a query or monitor expression, and what is left once they are taken out. */
function parseQueries(text: string): { queries: ParsedQuery[]; rest: string } {
  const queries = [...text.matchAll(METRIC_QUERY)].map((m): ParsedQuery => {
    const scope = m[3] === '*' ? [] : m[3]!.split(',').map((s) => s.trim());
    return {
      metric: m[2]!,
      filters: scope.filter((s) => !s.startsWith('$')).map((s) => s.replace(/^!/, '').split(':')[0]!),
      variables: scope.filter((s) => s.startsWith('$')).map((s) => s.slice(1)),
      by: m[4] ? m[4].split(',').map((s) => s.trim()) : [],
      asCount: m[5] === '.as_count()',
    };
  });
  return { queries, rest: text.replace(METRIC_QUERY, 'Q') };
}

/** Every query string of an asset, with the template variables it may use. */
function queryStrings(asset: Asset): { text: string; variables: readonly string[]; monitor: boolean }[] {
  if (asset.kind === 'monitor') return [{ text: asset.body.query, variables: [], monitor: true }];
  const variables = asset.body.template_variables.map((v) => v.prefix);
  const found: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      const object = value as Record<string, unknown>;
      if (object.data_source === 'metrics') found.push(String(object.query));
      Object.values(object).forEach(walk);
    }
  };
  walk(asset.body.widgets);
  return found.map((text) => ({ text, variables, monitor: false }));
}

const readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8');
const selfMetricsParagraph = /\*\*Self-metrics\*\*[\s\S]*?\n\n/.exec(readme)?.[0] ?? '';
const documented = (metric: string): boolean =>
  readme.includes(`\`${metric}\``) ||
  selfMetricsParagraph.includes(`\`${metric.replace(/^dogwatch\./, '')}\``);
const metadata = new Map(
  CHECKS.map((check) => [check, new Map(metricTable(check).map((r) => [r.metricName, r]))]),
);

/** What is wrong with one asset's queries (empty: nothing). */
function queryProblems(asset: Asset, namespace?: string): string[] {
  const problems: string[] = [];
  const owner = asset.name.split('/')[0]!;
  for (const { text, variables, monitor } of queryStrings(asset)) {
    const { queries, rest } = parseQueries(text);
    const leftover = monitor ? rest.replace(/^(sum|avg|min|max)\(last_\d+[mh]\):/, '') : rest;
    if (queries.length === 0 || !(monitor ? /^[\sQ\d.()+\-*/<>=]*$/ : /^Q$/).test(leftover))
      problems.push(`"${text}" is not made only of metric queries`);
    for (const q of queries) {
      const self = q.metric.startsWith('dogwatch.');
      const prefix = namespace && !self ? `${namespace}.` : '';
      if (!q.metric.startsWith(prefix)) problems.push(`${q.metric} is not under the namespace ${namespace}`);
      const name = q.metric.slice(prefix.length);
      const row = metadata.get(owner)?.get(name);
      if (!row && !(self && documented(name)))
        problems.push(`${name} is in neither metadata.csv nor the README`);
      const carried = sent.get(name);
      if (!carried) {
        problems.push(`${name} was not sent in the run: its tags cannot be checked`);
        continue;
      }
      const isCount = sentType.get(name) === 'count';
      if (q.asCount !== isCount)
        problems.push(`${name}: .as_count() ${q.asCount ? 'on a gauge' : 'missing'}`);
      for (const v of q.variables)
        if (!variables.includes(v))
          problems.push(`${name}: $${v} is not a template variable of the dashboard`);
      for (const key of [...q.filters, ...q.variables, ...q.by])
        if (!carried.has(key))
          problems.push(`${name}: filters or groups by "${key}", a tag it is not sent with`);
    }
  }
  return problems;
}

const defaults = () => buildAssets([...checkAssetSources(builtinDefinitions()), selfAssetSource]);
const namespaced = () =>
  buildAssets([...checkAssetSources(builtinDefinitions()), selfAssetSource], () => [NAMESPACE]).filter(
    (a) => a.namespace,
  );

test('every query of every asset names a known metric with the tags dogwatch sends it with', () => {
  assert.ok(sent.size > 100, `the run sent ${sent.size} metric names`);
  for (const asset of defaults()) assert.deepEqual(queryProblems(asset), [], asset.key);
});

test(`with namespace ${NAMESPACE}, check metrics are queried as ${NAMESPACE}.aws.… and self-metrics are not`, () => {
  const assets = namespaced();
  assert.ok(assets.some((a) => a.key === `${NAMESPACE}:amazon_lambda/dashboards/overview`));
  for (const asset of assets) assert.deepEqual(queryProblems(asset, NAMESPACE), [], asset.key);
});

test('the query check catches a metric, a tag, a variable and an .as_count() that dogwatch does not send', () => {
  const lambda = defaults().find((a) => a.key === 'amazon_lambda/monitors/high_error_rate')!;
  const broken = (query: string): Asset => ({ ...lambda, body: { ...lambda.body, query } }) as Asset;
  const problems = (query: string) => queryProblems(broken(query)).join('\n');
  assert.match(problems('sum(last_5m):sum:aws.lambda.invocation{*}.as_count() > 1'), /in neither metadata/);
  assert.match(problems('sum(last_5m):sum:aws.lambda.errors{*} by {apiname}.as_count() > 1'), /"apiname"/);
  assert.match(problems('sum(last_5m):sum:aws.lambda.errors{$stage}.as_count() > 1'), /\$stage/);
  assert.match(problems('sum(last_5m):sum:aws.lambda.errors{*} > 1'), /\.as_count\(\) missing/);
  assert.match(problems('avg(last_5m):avg:aws.lambda.duration{*}.as_count() > 1'), /on a gauge/);
  assert.match(problems('sum(last_5m):sum:aws.lambda.errors{*}.as_count() > 1 || true'), /not made only/);
  assert.match(problems('sum(last_5m):sum:dogwatch.check.bogus{*}.as_count() > 1'), /neither metadata/);
});
