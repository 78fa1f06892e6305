import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProc } from '../../../bench/logs.js';

describe('bench/logs parseProc', () => {
  it('reads utime + stime after a command name holding spaces and parentheses, and VmRSS / VmHWM', () => {
    const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 130 0 0 20 0 11 0 5 0 0';
    const status = 'Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n';
    assert.deepEqual(parseProc(stat, status), { cpuS: 3.8, rssMb: 100, hwmMb: 200 });
  });
});
