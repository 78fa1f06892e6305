import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CursorTable, NOTHING_SEEN } from '../../../core/state/cursor-table.js';

describe('CursorTable', () => {
  test('reads back every form of seen list as it was set', () => {
    const table = new CursorTable();
    const forms: (readonly (number | string)[])[] = [
      [],
      [120_000],
      [0],
      [120_000, 180_000],
      ['2026-11-25T12:00:00Z|stream-a'],
      [60_000, 'event-id'],
      [-60_000],
    ];
    forms.forEach((seen, i) => table.set(`id-${i}`, 1_000 * i, seen, 5_000 + i));
    forms.forEach((seen, i) => {
      const entry = table.get(`id-${i}`)!;
      assert.deepEqual(
        { ...entry, seen: [...entry.seen] },
        { id: `id-${i}`, w: 1_000 * i, seen, at: 5_000 + i },
      );
    });
    assert.equal(table.get('id-0')!.seen, NOTHING_SEEN);
    assert.equal(table.get('missing'), undefined);
    assert.equal(table.size, forms.length);
  });

  test('a record replaces every column, whatever the seen list was before', () => {
    const table = new CursorTable();
    table.set('q', 60_000, [120_000, 'x'], 1);
    table.set('q', 180_000, [240_000], 2);
    assert.deepEqual(table.get('q'), { id: 'q', w: 180_000, seen: [240_000], at: 2 });
    table.set('q', 300_000, [], 3);
    assert.deepEqual(table.get('q'), { id: 'q', w: 300_000, seen: [], at: 3 });
    table.set('q', 360_000, ['y'], 4);
    table.set('q', 420_000, [480_000], 5);
    assert.deepEqual(table.get('q')!.seen, [480_000]);
  });

  test('a copy read before a record keeps its values', () => {
    const table = new CursorTable();
    table.set('q', 60_000, [120_000], 1);
    const before = table.get('q')!;
    table.set('q', 180_000, [], 2);
    assert.deepEqual(before, { id: 'q', w: 60_000, seen: [120_000], at: 1 });
  });

  test('the stored id string is handed out, so that a new plan shares it', () => {
    const table = new CursorTable();
    const stored = ['metric', 'a', 'b'].join('|');
    table.set(stored, 1, [], 1);
    assert.equal(table.storedId(['metric', 'a', 'b'].join('|')), stored);
    assert.equal(table.storedId('other'), undefined);
  });

  test('deleted slots are reused; many cursors grow the columns without losing any', () => {
    const table = new CursorTable();
    const n = 5_000;
    for (let i = 0; i < n; i++) table.set(`c${i}`, i * 60_000, i % 3 === 0 ? [] : [i], i);
    for (let i = 0; i < n; i += 2) assert.equal(table.delete(`c${i}`), true);
    assert.equal(table.delete('c0'), false);
    for (let i = 0; i < n; i += 2) table.set(`d${i}`, -i, ['s'], 7);
    assert.equal(table.size, n);
    for (let i = 1; i < n; i += 2)
      assert.deepEqual(table.get(`c${i}`), {
        id: `c${i}`,
        w: i * 60_000,
        seen: i % 3 === 0 ? [] : [i],
        at: i,
      });
    for (let i = 0; i < n; i += 2)
      assert.deepEqual(table.get(`d${i}`), { id: `d${i}`, w: -i, seen: ['s'], at: 7 });
    assert.equal([...table.entries()].length, n);
    assert.deepEqual(new Set(table.keys()).size, n);
    table.clear();
    assert.equal(table.size, 0);
    assert.equal(table.get('c1'), undefined);
  });
});
