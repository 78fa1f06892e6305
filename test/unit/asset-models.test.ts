/**
 * Every asset read into the official client's models (v1 Dashboard, Monitor) the way the client reads
 * an API response (ObjectSerializer.deserialize), then written back the way it sends a request
 * (ObjectSerializer.serialize). The client keeps unknown fields in `additionalProperties` and marks
 * invalid enum values and unmatched widget types `_unparsed` instead of throwing: both are failures here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { v1 } from '@datadog/datadog-api-client';
import type { Asset } from '../../core/check/asset.js';
import { buildAssets, checkAssetSources } from '../../core/assets/asset-set.js';
import { selfAssetSource } from '../../core/assets/self-assets.js';
import { builtinAssets } from '../tools/write-assets.js';
import { builtinDefinitions } from '../tools/write-conf-examples.js';

/** Paths in the deserialised model the client could not fit to its schema. */
function modelProblems(value: unknown, path = '$'): string[] {
  if (value === null || typeof value !== 'object' || value instanceof Date) return [];
  const object = value as Record<string, unknown>;
  const problems: string[] = [];
  if (object.constructor?.name === 'UnparsedObject') problems.push(`${path}: not a valid value of its type`);
  if (object._unparsed === true) problems.push(`${path}: has an invalid field or widget`);
  const extra = object.additionalProperties;
  if (extra && typeof extra === 'object' && Object.keys(extra).length > 0) {
    problems.push(`${path}: unknown field(s) ${Object.keys(extra).join(', ')}`);
  }
  for (const [key, child] of Object.entries(object)) {
    if (key !== 'additionalProperties') problems.push(...modelProblems(child, `${path}.${key}`));
  }
  return problems;
}

const MODEL = { dashboard: 'Dashboard', monitor: 'Monitor' } as const;

/** Deserialises, checks, serialises back; returns the problems (empty: the API would take it as is). */
function checkAgainstModels(kind: Asset['kind'], body: object): string[] {
  let model: unknown;
  try {
    model = v1.ObjectSerializer.deserialize(body, MODEL[kind], '');
  } catch (error) {
    return [`does not deserialise: ${(error as Error).message}`];
  }
  const problems = modelProblems(model);
  if (problems.length > 0) return problems;
  const sent = v1.ObjectSerializer.serialize(model, MODEL[kind], '') as unknown;
  try {
    assert.deepEqual(JSON.parse(JSON.stringify(sent)), JSON.parse(JSON.stringify(body)));
  } catch {
    return ['serialises to something else than the asset (a field the model drops or renames)'];
  }
  return [];
}

const assets = [
  ...builtinAssets(),
  // Namespaced assets differ in names and marks only, but are checked too.
  ...buildAssets([...checkAssetSources(builtinDefinitions()), selfAssetSource], () => ['team_a']).filter(
    (asset) => asset.namespace,
  ),
];

test('the three checks and dogwatch itself each ship a dashboard and monitors', () => {
  for (const owner of ['amazon_lambda', 'amazon_api_gateway', 'amazon_rekognition', 'dogwatch']) {
    const kinds = new Set(assets.filter((a) => a.name.startsWith(`${owner}/`)).map((a) => a.kind));
    assert.deepEqual([...kinds].sort(), ['dashboard', 'monitor'], owner);
  }
});

for (const asset of assets) {
  test(`${asset.key} fits the client's ${MODEL[asset.kind]} model`, () => {
    assert.deepEqual(checkAgainstModels(asset.kind, asset.body), []);
  });
}

test('the model check catches an unknown field, an invalid enum, a bad widget and a missing field', () => {
  const lambda = assets.find((a) => a.key === 'amazon_lambda/dashboards/overview')!;
  const monitor = assets.find((a) => a.key === 'amazon_lambda/monitors/high_error_rate')!;
  const dashboard = JSON.parse(JSON.stringify(lambda.body)) as {
    widgets: { definition: { widgets: { definition: Record<string, unknown> }[] } }[];
  };
  const firstGraph = (d: typeof dashboard) => d.widgets[1]!.definition.widgets[0]!.definition;

  const unknownField = structuredClone(dashboard);
  firstGraph(unknownField).titel = 'typo';
  assert.match(checkAgainstModels('dashboard', unknownField).join('\n'), /unparsed|invalid|unknown field/);

  const badEnum = structuredClone(dashboard);
  (firstGraph(badEnum).requests as { display_type: string }[])[0]!.display_type = 'dots';
  assert.notDeepEqual(checkAgainstModels('dashboard', badEnum), []);

  const badWidget = structuredClone(dashboard);
  firstGraph(badWidget).type = 'timeseries_v2';
  assert.notDeepEqual(checkAgainstModels('dashboard', badWidget), []);

  const noQuery = JSON.parse(JSON.stringify(monitor.body)) as Record<string, unknown>;
  delete noQuery.query;
  assert.match(
    checkAgainstModels('monitor', noQuery).join('\n'),
    /does not deserialise: missing required property 'query'/,
  );

  const extraOption = JSON.parse(JSON.stringify(monitor.body)) as { options: Record<string, unknown> };
  extraOption.options.notify_nodata = true;
  assert.match(checkAgainstModels('monitor', extraOption).join('\n'), /unknown field\(s\) notify_nodata/);
});
