import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMetricTable, type MetricRow } from '../../core/cloudwatch/metric-table.js';
import { packageRoot } from '../../core/package-root.js';
import { readStatistic, type Series, type World } from '../../emulator/index.js';

/** The project's metric contract of one check (its metadata.csv), as the tests hold emissions to it. */
export function metricTable(check: string): MetricRow[] {
  const file = join(packageRoot(), 'checks', check, 'metadata.csv');
  return parseMetricTable(readFileSync(file, 'utf8'), file);
}

export interface ParsedMetricLine {
  readonly metric: string;
  readonly value: number;
  readonly type: string;
  readonly tags: readonly string[];
  readonly timestamp?: number;
}

/** Parses one DogStatsD metric line (`name:value|type|#tags|T<ts>`); undefined for events/service checks. */
export function parseMetricLine(line: string): ParsedMetricLine | undefined {
  if (line.startsWith('_e{') || line.startsWith('_sc|') || line === '') return undefined;
  const colon = line.indexOf(':');
  const fields = line.slice(colon + 1).split('|');
  const tags =
    fields
      .find((f) => f.startsWith('#'))
      ?.slice(1)
      .split(',') ?? [];
  const ts = fields.find((f) => f.startsWith('T'));
  return {
    metric: line.slice(0, colon),
    value: Number(fields[0]),
    type: fields[1]!,
    tags,
    timestamp: ts ? Number(ts.slice(1)) : undefined,
  };
}

/** The identity of an emitted point: metric, timestamp and the chosen identifying tags. */
export function pointKey(metric: string, timestamp: number, identity: readonly string[]): string {
  return `${metric}@${timestamp}{${[...identity].sort().join(',')}}`;
}

export function identityOf(line: ParsedMetricLine, identityKeys: readonly string[]): string[] {
  return line.tags.filter((t) => identityKeys.includes(t.slice(0, t.indexOf(':'))));
}

/**
 * Every point the world holds for the rows of a contract over [fromMs, toMs): the exact multiset a
 * collector must emit. `scopeOf` picks the contract scope of a series (undefined = not collected) and
 * `identity` gives the series' identifying tags as they appear on the wire.
 */
export function expectedPoints(options: {
  world: World;
  series: readonly Series[];
  rows: readonly MetricRow[];
  scopeOf: (series: Series) => string | undefined;
  identity: (series: Series) => readonly string[];
  fromMs: number;
  toMs: number;
  visibleBy?: number;
}): Map<string, number> {
  const expected = new Map<string, number>();
  for (const series of options.series) {
    const scope = options.scopeOf(series);
    if (scope === undefined) continue;
    const rows = options.rows.filter(
      (r) => r.cloudwatchMetric === series.metricName && r.statistic && r.scopes.includes(scope),
    );
    for (let t = options.fromMs; t < options.toMs; t += 60_000) {
      if (options.visibleBy !== undefined && options.world.visibleAt(series, t) > options.visibleBy) continue;
      const point = options.world.datapoint(series, t, 60);
      if (!point) continue;
      for (const row of rows) {
        const value = readStatistic(point, row.statistic!);
        if (value === undefined) continue;
        expected.set(pointKey(row.metricName, t / 1000, options.identity(series)), value);
      }
    }
  }
  return expected;
}

/** Compares emitted lines with the expected multiset; returns readable differences (empty = equal). */
export function diffPoints(
  expected: ReadonlyMap<string, number>,
  lines: readonly ParsedMetricLine[],
  identityKeys: readonly string[],
): { missing: string[]; unexpected: string[]; duplicated: string[]; wrongValue: string[] } {
  const seen = new Map<string, number>();
  const duplicated: string[] = [];
  const unexpected: string[] = [];
  const wrongValue: string[] = [];
  for (const line of lines) {
    if (line.timestamp === undefined) continue;
    const key = pointKey(line.metric, line.timestamp, identityOf(line, identityKeys));
    if (seen.has(key)) duplicated.push(key);
    seen.set(key, line.value);
    const want = expected.get(key);
    if (want === undefined) unexpected.push(key);
    else if (want !== line.value) wrongValue.push(`${key}: sent ${line.value}, world ${want}`);
  }
  const missing = [...expected.keys()].filter((k) => !seen.has(k));
  return { missing, unexpected, duplicated, wrongValue };
}

/** Asserts that the lines hold every expected point exactly once, with its value, and nothing else. */
export function assertEachPointOnce(
  expected: ReadonlyMap<string, number>,
  lines: readonly ParsedMetricLine[],
  identityKeys: readonly string[],
  message?: string,
): void {
  assert.deepEqual(
    diffPoints(expected, lines, identityKeys),
    { missing: [], unexpected: [], duplicated: [], wrongValue: [] },
    message,
  );
}
