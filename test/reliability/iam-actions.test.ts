/**
 * iam/dogwatch-policy.json grants exactly the IAM actions a run needs, as the AWS emulator records them
 * (`emulator.accounting.actions`) across one run of all three checks with every option that makes an AWS
 * call: role_arn + external_id (sts:AssumeRole), two regions with Lambda@Edge replicas (the MasterRegion
 * listing), resource tags and tag_filters (tag:GetResources), aliases and event source mappings, REST,
 * HTTP and WebSocket APIs (apigateway:GET).
 *
 * `regions: all` (account:ListRegions) cannot be exercised: the emulator does not serve the Account API.
 *
 * Prints `# iam: policy <n> actions, recorded <m>, missing from policy [...], unused by the run [...]`.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../core/clock.js';
import { packageRoot } from '../../core/package-root.js';
import { AwsEmulator, DEFAULT_ACCOUNT, type WorldOptions } from '../emulator/index.js';
import { CollectionHarness, useEmulatorCredentials } from '../support/collection-harness.js';
import { sinkFor, TempWorkspace, testSettings } from '../support/daemon-harness.js';
import { startUdpListener } from '../support/dogstatsd-listener.js';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const POLICY = join(packageRoot(), 'iam', 'dogwatch-policy.json');

const WORLD: WorldOptions = {
  regions: ['us-east-1', 'eu-west-1'],
  accounts: [DEFAULT_ACCOUNT],
  functions: 2,
  edgeFunctions: 1,
  dottedFunction: true,
  eventSourceMappings: 1,
  restApis: 1,
  httpApis: 1,
  websocketApis: 1,
  rekognitionOperations: 1,
  createdAtMs: T0 - 6 * 3600_000,
};

interface PolicyDocument {
  Statement: { Effect: string; Action: string | string[] }[];
}

function policyActions(): Set<string> {
  const policy = JSON.parse(readFileSync(POLICY, 'utf8')) as PolicyDocument;
  return new Set(
    policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) =>
      Array.isArray(s.Action) ? s.Action : [s.Action],
    ),
  );
}

let recorded: Set<string> = new Set();
let ran = false;

before(() => useEmulatorCredentials());
after(() => {
  if (!existsSync(POLICY)) return;
  const granted = policyActions();
  console.log(
    `# iam: policy ${granted.size} actions, recorded ${recorded.size}: [${[...recorded].sort().join(', ')}]; ` +
      `missing from policy [${[...recorded].filter((a) => !granted.has(a)).join(', ')}], ` +
      `granted but not called [${[...granted].filter((a) => !recorded.has(a)).join(', ')}]`,
  );
});

describe(
  'IAM policy against the actions a run needs',
  { skip: existsSync(POLICY) ? false : `${POLICY} is not written yet` },
  () => {
    test('a run of all three checks with every AWS-calling option records its actions', async () => {
      const clock = new ManualClock(T0);
      const emulator = new AwsEmulator({ clock, world: WORLD, quotas: false });
      const endpoint = await emulator.start();
      const listener = await startUdpListener();
      const ws = new TempWorkspace();
      const role = `    role_arn: arn:aws:iam::${DEFAULT_ACCOUNT}:role/dogwatch-collector\n    external_id: iam-test\n`;
      const common = `  - endpoint_url: ${endpoint}\n    regions: [us-east-1, eu-west-1]\n`;
      ws.writeConf(
        'amazon_lambda',
        `instances:\n${common}${role}    collect_aliases: true\n    collect_event_source_mappings: true\n  - endpoint_url: ${endpoint}\n    regions: [eu-west-1]\n    name: filtered\n    tag_filters: {env: [prod]}\n`,
      );
      ws.writeConf('amazon_api_gateway', `instances:\n${common}${role}`);
      // regions: all → Account ListRegions.
      ws.writeConf(
        'amazon_rekognition',
        `instances:\n  - endpoint_url: ${endpoint}\n    regions: all\n${role}`,
      );
      const settings = testSettings(ws, { DD_DOGSTATSD_URL: `udp://127.0.0.1:${listener.port}` });
      const harness = new CollectionHarness({ settings, clock, sink: sinkFor(settings) });
      try {
        await harness.start();
        assert.equal(harness.runners.length, 4);
        for (const outcome of await harness.runAll()) assert.ok(outcome.ok, outcome.error);
        recorded = new Set(emulator.accounting.actions);
        ran = true;
        assert.ok(recorded.has('sts:AssumeRole'), 'role_arn assumed the role');
        assert.ok(recorded.has('cloudwatch:GetMetricData'));
      } finally {
        await harness.stop();
        await listener.close();
        await emulator.stop();
        ws.cleanup();
      }
    });

    test('the policy grants exactly the recorded actions, account:ListRegions included (regions: all)', () => {
      assert.ok(ran, 'the run above completed');
      assert.deepEqual([...policyActions()].sort(), [...recorded].sort());
    });
  },
);
