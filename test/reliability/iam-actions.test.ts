/**
 * The IAM actions declared for core and the built-in checks (their AWS API declarations, from which
 * iam/dogwatch-policy.json is generated) are exactly the actions a run needs, as the AWS emulator records
 * them (`emulator.accounting.actions`) across one run of every built-in check with every option that makes
 * an AWS call: role_arn + external_id (sts:AssumeRole), two regions with Lambda@Edge replicas (the
 * MasterRegion listing), resource tags and tag_filters (tag:GetResources), aliases and event source
 * mappings, REST, HTTP and WebSocket APIs (apigateway:GET), `regions: all` (account:ListRegions). A check
 * this test has no instance for runs with the common options.
 *
 * Prints `# iam: declared <n> actions, recorded <m>: [...]; missing from the declarations [...], declared
 * but not called [...]`.
 */
import assert from 'node:assert/strict';
import { MemoryLogSink } from '../../core/logs-sink/memory-log-sink.js';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../core/clock.js';
import { AwsEmulator, DEFAULT_ACCOUNT, type WorldOptions } from '../../emulator/index.js';
import { CollectionHarness, useEmulatorCredentials } from '../support/collection-harness.js';
import { sinkFor, TempWorkspace, testSettings } from '../support/daemon-harness.js';
import { startUdpListener } from '../support/dogstatsd-listener.js';
import { builtinDefinitions } from '../tools/write-conf-examples.js';
import { awsApiRegistry } from '../tools/write-iam-policy.js';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

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

const declared = new Set(awsApiRegistry().iamActions.map((a) => a.action));
let recorded: Set<string> = new Set();
let ran = false;

before(() => useEmulatorCredentials());
after(() => {
  console.log(
    `# iam: declared ${declared.size} actions, recorded ${recorded.size}: [${[...recorded].sort().join(', ')}]; ` +
      `missing from the declarations [${[...recorded].filter((a) => !declared.has(a)).join(', ')}], ` +
      `declared but not called [${[...declared].filter((a) => !recorded.has(a)).join(', ')}]`,
  );
});

describe('declared IAM actions against the actions a run needs', () => {
  test('a run of every built-in check with every AWS-calling option records its actions', async () => {
    const clock = new ManualClock(T0);
    const emulator = new AwsEmulator({ clock, world: WORLD, quotas: false });
    const endpoint = await emulator.start();
    const listener = await startUdpListener();
    const ws = new TempWorkspace();
    const role = `    role_arn: arn:aws:iam::${DEFAULT_ACCOUNT}:role/dogwatch-collector\n    external_id: iam-test\n`;
    const common = `  - endpoint_url: ${endpoint}\n    regions: [us-east-1, eu-west-1]\n`;
    const instances: Readonly<Record<string, string>> = {
      amazon_lambda: `${common}${role}    collect_aliases: true\n    collect_event_source_mappings: true\n    collect_deployment_events: true\n    collect_logs: true\n  - endpoint_url: ${endpoint}\n    regions: [eu-west-1]\n    name: filtered\n    tag_filters: {env: [prod]}\n`,
      // collect_logs → GetStages (access-log settings) and FilterLogEvents.
      amazon_api_gateway: `${common}${role}    collect_logs: true\n`,
      // regions: all → Account ListRegions.
      amazon_rekognition: `  - endpoint_url: ${endpoint}\n    regions: all\n${role}`,
    };
    const checks = builtinDefinitions().map((d) => d.name);
    for (const check of checks) ws.writeConf(check, `instances:\n${instances[check] ?? `${common}${role}`}`);
    const settings = testSettings(ws, { DD_DOGSTATSD_URL: `udp://127.0.0.1:${listener.port}` });
    const harness = new CollectionHarness({
      settings,
      clock,
      sink: sinkFor(settings),
      logSink: new MemoryLogSink(),
    });
    try {
      await harness.start();
      assert.equal(harness.runners.length, checks.length + 1);
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

  test('an action declared for an option (cloudtrail:LookupEvents: collect_deployment_events) is not called without it', async () => {
    const byOption = new Map<string, string>();
    const always = new Set<string>();
    for (const a of awsApiRegistry().iamActions) {
      if (a.option === undefined) always.add(a.action);
      else byOption.set(a.action, a.option);
    }
    for (const action of always) byOption.delete(action);
    assert.equal(byOption.get('cloudtrail:LookupEvents'), 'collect_deployment_events');
    const clock = new ManualClock(T0);
    const emulator = new AwsEmulator({ clock, world: WORLD, quotas: false });
    const endpoint = await emulator.start();
    const listener = await startUdpListener();
    const ws = new TempWorkspace();
    // Every built-in check with no option at all: explicit regions, no role, nothing collect_*.
    const checks = builtinDefinitions().map((d) => d.name);
    for (const check of checks)
      ws.writeConf(check, `instances:\n  - endpoint_url: ${endpoint}\n    regions: [us-east-1, eu-west-1]\n`);
    const settings = testSettings(ws, { DD_DOGSTATSD_URL: `udp://127.0.0.1:${listener.port}` });
    const harness = new CollectionHarness({ settings, clock, sink: sinkFor(settings) });
    try {
      await harness.start();
      for (const outcome of await harness.runAll()) assert.ok(outcome.ok, outcome.error);
      const called = [...emulator.accounting.actions].filter((a) => byOption.has(a));
      assert.deepEqual(
        called.map((a) => `${a} (declared for ${byOption.get(a)})`),
        [],
      );
      assert.ok(emulator.accounting.actions.has('cloudwatch:GetMetricData'), 'the checks ran');
    } finally {
      await harness.stop();
      await listener.close();
      await emulator.stop();
      ws.cleanup();
    }
  });

  test('the declared actions are exactly the recorded ones, account:ListRegions included (regions: all)', () => {
    assert.ok(ran, 'the run above completed');
    assert.deepEqual([...declared].sort(), [...recorded].sort());
  });
});
