import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test } from 'node:test';
import { QueueAdmission } from '../../../core/logs-sink/queue-admission.js';

/** A queue of 100-byte lines, 10,000 bytes at most, that the test fills and drains by hand. */
class Queue {
  lines = 0;
  open = true;
  readonly admission = new QueueAdmission(() => ({
    queuedBytes: this.lines * 100,
    pending: this.lines,
    maxQueuedBytes: 10_000,
    open: this.open,
  }));
  push(n: number): void {
    for (let i = 0; i < n; i++) {
      this.lines++;
      this.admission.queued(100);
    }
  }
  drain(n: number): void {
    this.lines -= n;
    this.admission.notify();
  }
}

async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await nextTurn();
  await nextTurn();
  return done;
}

test('batches asked for at once go in one at a time, each only once it fits', async () => {
  const queue = new Queue();
  const first = queue.admission.room(60);
  const second = queue.admission.room(60);
  const third = queue.admission.room(10);
  assert.equal(await settled(first), true, 'an empty queue takes the first batch');
  assert.equal(await settled(second), false, 'the first batch, let in but not queued yet, counts');
  queue.push(60);
  // 6,000 bytes queued; a line is reckoned at twice the average (200 bytes): 60 more do not fit.
  assert.equal(await settled(second), false);
  queue.drain(30);
  assert.equal(await settled(second), false, '3,000 + 12,000 bytes still do not fit');
  queue.drain(30);
  assert.equal(await settled(second), true, 'an empty queue takes the next batch');
  assert.equal(await settled(third), false, 'waiters go in order, after the one let in queued its lines');
  queue.push(60);
  queue.drain(0);
  assert.equal(await settled(third), true, '10 lines fit beside 60');
});

test('nobody waits while the queue is closed or its peer unreachable', async () => {
  const queue = new Queue();
  queue.push(99);
  const waiting = queue.admission.room(50);
  assert.equal(await settled(waiting), false);
  queue.open = false;
  queue.admission.notify();
  assert.equal(await settled(waiting), true);
  assert.equal(await settled(queue.admission.room(1000)), true);
});
