import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LateHorizonCursor } from '../../../core/state/late-horizon-cursor.js';

const MIN = 60_000;

test('records arriving late and out of order within the horizon are each accepted once', () => {
  const cursor = LateHorizonCursor.startingAt(0);
  const horizon = 15 * MIN;
  // Run 1 reads [0, 10 min): sees b (5 min) only; a (3 min) is not delivered by AWS yet.
  assert.ok(cursor.accepts('b', 5 * MIN));
  cursor.markSent('b', 5 * MIN);
  cursor.settle(10 * MIN, horizon);
  assert.equal(cursor.startMs, 0, 'w never goes below what the horizon still covers');
  // Run 2 reads [0, 20 min): a arrives now, b again, c new.
  assert.ok(cursor.accepts('a', 3 * MIN));
  assert.equal(cursor.accepts('b', 5 * MIN), false, 'b was sent');
  cursor.markSent('a', 3 * MIN);
  cursor.markSent('c', 18 * MIN);
  cursor.settle(20 * MIN, horizon);
  assert.equal(cursor.startMs, 5 * MIN);
  assert.deepEqual(cursor.toStored(), { w: 5 * MIN, seen: [`${5 * MIN}|b`, `${18 * MIN}|c`] });
  // An event older than the horizon is refused, not sent twice or sent out of range.
  assert.equal(cursor.accepts('old', 4 * MIN), false);
});

test('a stored cursor reads back the same, and w never moves back', () => {
  const stored = { w: 600_000, seen: ['700000|evt-1', 'bad', 3, '650000|evt|with|bars'] };
  const cursor = LateHorizonCursor.fromStored(stored);
  assert.equal(cursor.accepts('evt-1', 700_000), false);
  assert.equal(cursor.accepts('evt|with|bars', 650_000), false, 'IDs may contain the separator');
  assert.ok(cursor.accepts('evt-2', 700_000));
  cursor.settle(100_000, 60_000);
  assert.equal(cursor.startMs, 600_000);
  const copy = cursor.copy();
  copy.markSent('evt-2', 700_000);
  assert.ok(cursor.accepts('evt-2', 700_000), 'a copy does not change the original');
});
