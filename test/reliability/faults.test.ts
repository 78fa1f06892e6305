/**
 * The fault matrix: each AWS failure mode, active for several CloudWatch minutes, then gone. During the
 * fault the daemon stays up and `status` / `<check>.can_connect` say what is wrong; after it, every point
 * of the world is emitted exactly once (the failed windows were fetched again, nothing skipped, nothing
 * repeated).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_ACCOUNT, regionDown, type FaultRule } from '../../emulator/index.js';
import { useEmulatorCredentials } from '../support/collection-harness.js';
import { assertValidDatagram } from '../support/dogstatsd-validator.js';
import {
  bareWorld,
  MINUTE,
  rekognitionTruth,
  startEmulatedCollection,
  T0,
} from '../support/emulated-collection.js';
import { diffPoints } from '../support/world-truth.js';

const FAULT_MINUTES = 5;

interface Scenario {
  readonly name: string;
  readonly rules: (fromMs: number, toMs: number) => FaultRule[];
  /** Whether every run during the fault must fail (CRITICAL), or may get through on retries. */
  readonly alwaysFails: boolean;
  /** Text the failure reason must contain, when it fails. */
  readonly reason?: RegExp;
  readonly roleArn?: boolean;
  /** The fault is there from the daemon's first run. */
  readonly fromStart?: boolean;
  /**
   * Instead of rules: from the first GetMetricData call of the fault on (in the middle of a run), AWS
   * rejects every session it issued so far as expired, although the SDK still believes them valid for
   * most of an hour (a revoked session, a skewed clock, a laptop that slept).
   */
  readonly credentialsExpireMidRun?: boolean;
}

const window = (fromMs: number, toMs: number) => ({ virtualWindow: { fromMs, toMs } });

const SCENARIOS: Scenario[] = [
  {
    name: 'a throttling storm: 50% of calls for 5 minutes',
    rules: (f, t) => [{ kind: 'throttle', rate: 0.5, ...window(f, t) }],
    alwaysFails: false,
  },
  {
    name: 'a 5xx burst: every call fails with 500 or 503',
    rules: (f, t) => [
      { kind: 'internal-error', rate: 0.5, ...window(f, t) },
      { kind: 'unavailable', ...window(f, t) },
    ],
    alwaysFails: true,
    reason: /eu-west-1|us-east-1/,
  },
  {
    name: 'timeouts: GetMetricData never answers',
    rules: (f, t) => [{ kind: 'timeout', operation: 'GetMetricData', ...window(f, t) }],
    alwaysFails: true,
    reason: /GetMetricData batch|Timeout|timed out/i,
  },
  {
    name: 'connection resets on every call',
    rules: (f, t) => [{ kind: 'reset', ...window(f, t) }],
    alwaysFails: true,
  },
  {
    name: 'a whole region down (eu-west-1), the other region unaffected',
    rules: (f, t) => [{ ...regionDown('eu-west-1'), ...window(f, t) }],
    alwaysFails: true,
    reason: /eu-west-1/,
  },
  {
    name: 'AssumeRole failing',
    rules: (f, t) => [{ kind: 'internal-error', operation: 'AssumeRole', ...window(f, t) }],
    alwaysFails: true,
    roleArn: true,
    // Credentials assumed before a fault stay valid for an hour: the fault bites from the first run.
    fromStart: true,
  },
  {
    name: 'assumed-role credentials expiring mid-run, long before the expiry they announced',
    rules: () => [],
    // Fresh credentials are fetched and the call made again within the same run.
    alwaysFails: false,
    roleArn: true,
    credentialsExpireMidRun: true,
  },
];

/** What the emulator judges STS sessions by: real time, plus a jump once the scenario expires them. */
class ExpiringCredentialClock {
  skewMs = 0;
  expireWhen: () => boolean = () => false;
  now(): number {
    if (this.skewMs === 0 && this.expireWhen()) this.skewMs = 2 * 3600_000;
    return Date.now() + this.skewMs;
  }
  monotonic(): number {
    return this.now();
  }
}

const totals = {
  scenarios: 0,
  runsDuringFaults: 0,
  criticalDuringFaults: 0,
  points: 0,
  lost: 0,
  duplicated: 0,
};
before(() => useEmulatorCredentials());
after(() =>
  console.log(
    `fault matrix: ${totals.scenarios} fault kinds survived, ${totals.runsDuringFaults} runs under faults ` +
      `(${totals.criticalDuringFaults} reported CRITICAL), ${totals.points} points checked, ` +
      `${totals.lost} lost, ${totals.duplicated} duplicated`,
  ),
);

describe('fault matrix: every point exactly once after recovery, the truth told during the fault', () => {
  for (const scenario of SCENARIOS) {
    test(scenario.name, async () => {
      const role = scenario.roleArn ? `    role_arn: arn:aws:iam::${DEFAULT_ACCOUNT}:role/dogwatch\n` : '';
      const credentialClock = new ExpiringCredentialClock();
      const s = await startEmulatedCollection({
        world: bareWorld({ regions: ['us-east-1', 'eu-west-1'], rekognitionOperations: 3 }),
        emulator: { credentialClock },
        confs: { amazon_rekognition: `    regions: [us-east-1, eu-west-1]\n${role}` },
        // Short timeouts and quick retries, so minutes of faults take seconds.
        cloudWatch: { client: { maxAttempts: 3, requestTimeoutMs: 300, connectTimeoutMs: 300 } },
      });
      const { clock, emulator, listener, harness } = s;
      const faultFrom = scenario.fromStart ? T0 : T0 + 2 * MINUTE;
      const faultTo = faultFrom + FAULT_MINUTES * MINUTE;
      emulator.setFaults({ seed: 11, rules: scenario.rules(faultFrom, faultTo) });
      const gmd = { operation: 'GetMetricData' };
      let expireAfterCall = Infinity;
      if (scenario.credentialsExpireMidRun)
        credentialClock.expireWhen = () => emulator.accounting.requests(gmd) > expireAfterCall;
      try {
        let runsFailedDuringFault = 0;
        for (let minute = 0; minute < 12; minute++) {
          if (clock.now() === faultFrom) expireAfterCall = emulator.accounting.requests(gmd);
          const [outcome] = await harness.runAll();
          const status = harness.status.snapshot({ version: 't', sink: {} }).instances[0]!;
          const during = clock.now() >= faultFrom && clock.now() < faultTo;
          if (during) {
            totals.runsDuringFaults++;
            if (!outcome!.ok) {
              runsFailedDuringFault++;
              totals.criticalDuringFaults++;
              // status tells the same, true story as the run.
              assert.equal(status.lastError?.message, outcome!.error);
              if (scenario.reason) assert.match(outcome!.error!, scenario.reason);
            }
          }
          if (clock.now() >= faultTo + MINUTE)
            assert.ok(outcome!.ok, `recovered after the fault: ${outcome!.error}`);
          clock.advance(MINUTE);
        }
        if (scenario.alwaysFails)
          assert.equal(runsFailedDuringFault, FAULT_MINUTES, 'every run during the fault failed');
        await new Promise((r) => setTimeout(r, 300));
        // can_connect said CRITICAL (with the reason) once per failed run, and OK again after recovery.
        const checks = listener.lines().filter((l) => l.startsWith('_sc|amazon_rekognition.can_connect|'));
        const critical = checks.filter((l) => l.startsWith('_sc|amazon_rekognition.can_connect|2|'));
        assert.equal(critical.length, runsFailedDuringFault);
        assert.ok(
          critical.every((l) => /\|m:.+/.test(l)),
          'CRITICAL carries the reason',
        );
        assert.match(
          checks.at(-1) ?? '',
          /^_sc\|amazon_rekognition\.can_connect\|0(\||$)/,
          'OK again after recovery',
        );
        for (const d of listener.datagrams) assertValidDatagram(d, 1432);
        if (scenario.credentialsExpireMidRun) {
          const rejected = emulator.accounting.requests({ ...gmd, outcome: 'error' });
          assert.ok(credentialClock.skewMs > 0 && rejected > 0, 'AWS rejected the expired session');
          assert.ok(
            emulator.accounting.requests({ operation: 'AssumeRole' }) >= 2,
            'the role was assumed again',
          );
        }
        const world = emulator.world;
        const expected = rekognitionTruth(world, T0 - 3 * MINUTE, T0 + 11 * MINUTE - 2 * MINUTE);
        const diff = diffPoints(expected, s.lines(), ['operation', 'region']);
        totals.scenarios++;
        totals.points += expected.size;
        totals.lost += diff.missing.length;
        totals.duplicated += diff.duplicated.length;
        assert.deepEqual(diff, { missing: [], unexpected: [], duplicated: [], wrongValue: [] });
      } finally {
        await s.close();
      }
    });
  }
});
