import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, ScaledClock, clockFromSpec, SystemClock } from '../../core/clock.js';

test('ManualClock moves only when told', () => {
  const clock = new ManualClock(1_000);
  assert.equal(clock.now(), 1_000);
  clock.advance(500);
  assert.equal(clock.now(), 1_500);
  clock.set(10);
  assert.equal(clock.now(), 10);
});

test('ScaledClock round-trips through its spec, so two processes agree on virtual time', () => {
  const clock = new ScaledClock(Date.now(), 1_700_000_000_000, 60);
  const other = clockFromSpec(clock.toSpec());
  assert.ok(other instanceof ScaledClock);
  assert.ok(Math.abs(other.now() - clock.now()) < 200);
  assert.ok(clock.now() >= 1_700_000_000_000);
});

test('clockFromSpec rejects junk with the variable name in the message and defaults to system time', () => {
  assert.throws(() => clockFromSpec('scaled:x:1:2'), /DOGWATCH_CLOCK/);
  assert.ok(clockFromSpec(undefined) instanceof SystemClock);
});
