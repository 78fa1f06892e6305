/**
 * Upgrading dogwatch loses and repeats nothing: the current code starts on state files written by the
 * version before cursors were shared (test/fixtures/state-v3, written by commit a6d53e9 byte for byte),
 * with a changed configuration (another endpoint port, so another instance ID), and continues every
 * query exactly where the old version stopped: no point it sent is sent again, none it had not sent yet
 * is skipped.
 */
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeSeries } from '../../core/cloudwatch/series.js';
import { legacyQueryId } from '../../core/state/cursor-id.js';
import { readLegacyState } from '../../core/state/cursor-snapshot.js';
import { readStatistic, type Series } from '../../emulator/index.js';
import { useEmulatorCredentials } from '../support/collection-harness.js';
import {
  bareWorld,
  lambdaScope,
  MINUTE,
  seriesIdentity,
  startEmulatedCollection,
  T0,
} from '../support/emulated-collection.js';
import { diffPoints, metricTable, pointKey, type ParsedMetricLine } from '../support/world-truth.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/state-v3/', import.meta.url));

before(() => useEmulatorCredentials());

test('the current version continues every query of state files written before cursors were shared', async () => {
  const s = await startEmulatedCollection({
    world: bareWorld({ functions: 3, rekognitionOperations: 3 }),
    emulator: { publicationDelay: { baseSeconds: 30, jitterSeconds: 240 } },
    confs: {
      amazon_lambda:
        '    regions: [us-east-1]\n    metrics: {include: ["aws.lambda.invocations", "aws.lambda.duration"]}\n',
      amazon_rekognition: '    regions: [us-east-1]\n',
    },
  });
  try {
    // The old version's files, as it left them one CloudWatch minute ago.
    cpSync(FIXTURE, s.workspace.stateDir, { recursive: true, filter: (p) => !p.endsWith('README.md') });
    const legacy = new Map<string, { w: number; seen: number[] }>();
    for (const name of readdirSync(FIXTURE).filter((n) => n.endsWith('.json'))) {
      const read = (file: string): string | undefined => {
        try {
          return readFileSync(join(FIXTURE, file), 'utf8');
        } catch {
          return undefined;
        }
      };
      const base = name.replace(/\.json$/, '');
      for (const [id, cursor] of await readLegacyState(read(`${base}.json`), read(`${base}.journal`)))
        legacy.set(id, cursor);
    }
    s.clock.set(T0 + 5 * MINUTE);
    for (let run = 0; run < 10; run++) {
      for (const outcome of await s.harness.runAll()) assert.ok(outcome.ok, outcome.error);
      s.clock.advance(MINUTE);
    }
    await s.settle();

    // What the old version had not sent yet, per query, up to what is surely published by now.
    const toMs = T0 + 8 * MINUTE;
    const expected = new Map<string, number>();
    let queries = 0;
    const world = s.emulator.world;
    const collect = (series: readonly Series[], check: string, names?: ReadonlySet<string>) => {
      const scopeOf = (x: Series): string | undefined =>
        check === 'amazon_lambda' ? lambdaScope(x) : 'operation';
      const rows = metricTable(check).filter(
        (r) => r.statistic && r.cloudwatchMetric && (!names || names.has(r.metricName)),
      );
      for (const x of series) {
        const scope = scopeOf(x);
        if (!scope) continue;
        const key = makeSeries(x.metricName, x.dimensions).key;
        for (const row of rows.filter(
          (r) => r.cloudwatchMetric === x.metricName && r.scopes.includes(scope),
        )) {
          const cursor = legacy.get(legacyQueryId(x.region, key, row.statistic!, 60));
          assert.ok(cursor, `the old state knows ${key} ${row.statistic}`);
          queries++;
          for (let t = cursor.w; t < toMs; t += MINUTE) {
            if (cursor.seen.includes(t)) continue;
            const point = world.datapoint(x, t, 60);
            const value = point && readStatistic(point, row.statistic!);
            if (value !== undefined)
              expected.set(pointKey(row.metricName, t / 1000, seriesIdentity(x)), value);
          }
        }
      }
    };
    collect(
      world.series({ namespace: 'AWS/Lambda' }).filter((x) => lambdaScope(x) === 'function'),
      'amazon_lambda',
      new Set(['aws.lambda.invocations', 'aws.lambda.duration']),
    );
    collect(world.series({ namespace: 'AWS/Rekognition' }), 'amazon_rekognition');
    const lines = s
      .lines()
      .filter((l: ParsedMetricLine) => l.timestamp !== undefined && l.timestamp * 1000 < toMs);
    const diff = diffPoints(expected, lines, ['functionname', 'operation', 'region']);
    console.log(
      `# state migration: ${queries} queries continued from format-3 state files, ${expected.size} points expected, ` +
        `${diff.missing.length} lost, ${diff.unexpected.length + diff.duplicated.length} sent again`,
    );
    assert.ok(expected.size > 50, `a meaningful window (${expected.size} points)`);
    assert.deepEqual(
      diff.missing.slice(0, 3),
      [],
      `${diff.missing.length} points the old version had not sent`,
    );
    assert.deepEqual(diff.unexpected.slice(0, 3), [], 'nothing the old version had sent is sent again');
    assert.deepEqual(diff.duplicated, []);
    assert.deepEqual(diff.wrongValue, []);
    await s.harness.stop();
    assert.deepEqual(
      readdirSync(s.workspace.stateDir).filter((n) => n.startsWith('amazon_')),
      [],
      'the old files are gone once the new snapshot holds what they held',
    );
  } finally {
    await s.close();
  }
});
