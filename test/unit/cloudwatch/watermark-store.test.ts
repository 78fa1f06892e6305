import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  NOTHING_PENDING,
  ProgressUpdates,
  stateId,
  WatermarkStore,
} from '../../../core/cloudwatch/watermark-store.js';
import { createSilentLogger } from '../../../core/log/logger.js';
import { countHeapStrings } from '../../support/heap-strings.js';

const KEY_A = 'us-east-1|Invocations|FunctionName=orders-handler|Sum|60';
const KEY_B = 'us-east-1|Duration|FunctionName=orders-handler|p99|60';
const KEY_EU = 'eu-west-1|Invocations|FunctionName=orders-handler|Sum|60';
const INSTANCE = 'amazon_lambda:abc123';

describe('WatermarkStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dogwatch-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const open = async (): Promise<WatermarkStore> => {
    const store = new WatermarkStore(dir, INSTANCE, createSilentLogger());
    assert.equal(await store.load(), undefined);
    return store;
  };

  test('state ids: region kept, short, stable, distinct per query', () => {
    const id = stateId(KEY_A);
    assert.match(id, /^us-east-1\|[A-Za-z0-9_-]{16}$/);
    assert.equal(stateId(KEY_A), id);
    assert.notEqual(stateId(KEY_B), id);
    assert.match(stateId(KEY_EU), /^eu-west-1\|/);
    // Pinned: state files written by any version must keep finding their queries (SHA-1, base64url, 96 bits).
    assert.equal(id, 'us-east-1|dWIbsUWm2A3pr_Ip');
  });

  test('progress survives a restart through the journal and through a compacted snapshot', async () => {
    const a = stateId(KEY_A);
    const b = stateId(KEY_B);
    let store = await open();
    const updates = new ProgressUpdates();
    updates.add(a, 120_000, []);
    updates.add(b, 60_000, [120_000, 180_000]);
    store.record(updates);
    assert.equal(store.get(a)!.emitted, NOTHING_PENDING);

    store = await open();
    assert.deepEqual(store.get(a), { id: a, w: 120_000, emitted: [] });
    assert.deepEqual(store.get(b), { id: b, w: 60_000, emitted: [120_000, 180_000] });

    await store.compact();
    const snapshot = readFileSync(join(dir, 'amazon_lambda_abc123.json'), 'utf8').split('\n');
    assert.equal(JSON.parse(snapshot[0]!).version, 3);
    assert.equal(readFileSync(join(dir, 'amazon_lambda_abc123.journal'), 'utf8'), '');
    store = await open();
    assert.deepEqual(store.get(b), { id: b, w: 60_000, emitted: [120_000, 180_000] });
    assert.equal(store.size, 2);
  });

  test('state written before ids (snapshot version 2, journal with full keys) loads under the ids, then is rewritten', async () => {
    writeFileSync(
      join(dir, 'amazon_lambda_abc123.json'),
      `${JSON.stringify({ version: 2, savedAt: '2026-01-01T00:00:00.000Z', entries: 2 })}\n` +
        `${JSON.stringify([KEY_A, 60_000])}\n${JSON.stringify([KEY_EU, 60_000, 120_000])}\n`,
    );
    writeFileSync(
      join(dir, 'amazon_lambda_abc123.journal'),
      `${JSON.stringify({ [KEY_A]: [180_000], [KEY_B]: [240_000] })}\n`,
    );
    let store = await open();
    assert.deepEqual(store.get(stateId(KEY_A)), { id: stateId(KEY_A), w: 180_000, emitted: [] });
    assert.deepEqual(store.get(stateId(KEY_B)), { id: stateId(KEY_B), w: 240_000, emitted: [] });
    assert.deepEqual(store.get(stateId(KEY_EU)), { id: stateId(KEY_EU), w: 60_000, emitted: [120_000] });
    assert.equal(store.size, 3);

    await store.compactIfDue(0);
    const lines = readFileSync(join(dir, 'amazon_lambda_abc123.json'), 'utf8').trim().split('\n');
    assert.equal(JSON.parse(lines[0]!).version, 3);
    assert.deepEqual(
      lines
        .slice(1)
        .map((l) => (JSON.parse(l) as [string])[0])
        .sort(),
      [stateId(KEY_A), stateId(KEY_B), stateId(KEY_EU)].sort(),
    );
    store = await open();
    assert.deepEqual(store.get(stateId(KEY_EU)), { id: stateId(KEY_EU), w: 60_000, emitted: [120_000] });
  });

  test('a version-2 snapshot alone (no journal) is converted too', async () => {
    writeFileSync(
      join(dir, 'amazon_lambda_abc123.json'),
      `${JSON.stringify({ version: 2, savedAt: '2026-01-01T00:00:00.000Z', entries: 1 })}\n${JSON.stringify([KEY_A, 60_000])}\n`,
    );
    const store = await open();
    await store.compactIfDue(0);
    const lines = readFileSync(join(dir, 'amazon_lambda_abc123.json'), 'utf8').trim().split('\n');
    assert.equal(JSON.parse(lines[0]!).version, 3);
    assert.deepEqual(JSON.parse(lines[1]!), [stateId(KEY_A), 60_000]);
  });

  test('retainOnly drops the region’s ids that are not kept, and only that region’s', async () => {
    const store = await open();
    const updates = new ProgressUpdates();
    for (const key of [KEY_A, KEY_B, KEY_EU]) updates.add(stateId(key), 60_000, []);
    store.record(updates);
    await store.retainOnly(new Set([stateId(KEY_A)]), 'us-east-1|');
    assert.ok(store.get(stateId(KEY_A)));
    assert.equal(store.get(stateId(KEY_B)), undefined);
    assert.ok(store.get(stateId(KEY_EU)));
  });

  test('canonicalId hands back the store’s own string: a rebuilt plan holds no second copy of an id', async () => {
    const store = await open();
    const keyOf = (i: number): string => `us-east-1|Invocations|FunctionName=fn-${i}|Sum|60`;
    // The first plan's ids, recorded; then that plan (and its ProgressUpdates) is gone.
    ((): void => {
      const updates = new ProgressUpdates();
      for (let i = 0; i < 50; i++) updates.add(stateId(keyOf(i)), 60_000, []);
      store.record(updates);
    })();
    // The plan rebuilt after a discovery refresh computes every id afresh.
    const rebuilt = Array.from({ length: 50 }, (_, i) => store.canonicalId(stateId(keyOf(i))));
    assert.equal(await countHeapStrings(rebuilt[7]!), 1);
    assert.equal(store.get(rebuilt[7]!)?.w, 60_000);
    // An id the store does not know is returned as is.
    const unknown = stateId(keyOf(99));
    assert.equal(store.canonicalId(unknown), unknown);
  });
});
