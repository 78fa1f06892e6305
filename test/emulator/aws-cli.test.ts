/**
 * The AWS CLI against the emulator: the README's snippet as written, plus get-metric-data,
 * get-metric-statistics and an error, with every `aws` on the PATH (aws-cli v2.9 speaks CloudWatch's
 * query protocol, recent ones JSON). Skipped, with the reason, where no AWS CLI is installed (CI has
 * only Node and npm).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { packageRoot } from '../../core/package-root.js';
import { AwsEmulator } from '../../emulator/index.js';

const run = promisify(execFile);

/** Every distinct `aws` executable on the PATH. */
function awsClis(): string[] {
  const found = new Map<string, string>();
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, 'aws');
    try {
      if (!statSync(path).isFile()) continue;
      accessSync(path, constants.X_OK);
      found.set(realpathSync(path), path);
    } catch {
      // not here
    }
  }
  return [...found.values()];
}

/** The `export` line and the `aws …` lines of the README's emulator snippet. */
function readmeSnippet(): { env: Record<string, string>; commands: string[][] } {
  const readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The AWS emulator'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const lines = block.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim());
  const exported = lines.find((line) => line.startsWith('export ')) ?? '';
  const env = Object.fromEntries(
    exported
      .slice('export '.length)
      .split(/\s+/)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  const commands = lines.filter((line) => line.startsWith('aws ')).map((line) => line.split(/\s+/).slice(1));
  return { env, commands };
}

const clis = awsClis();
const skip =
  clis.length === 0
    ? 'no AWS CLI (`aws`) on the PATH; install one (Debian: apt-get install awscli) to run this test'
    : false;

let emulator: AwsEmulator;
let port: number;
let home: string;

before(async () => {
  emulator = new AwsEmulator({ world: { createdAtMs: Date.now() - 6 * 3600_000 } });
  port = Number(new URL(await emulator.start()).port);
  home = mkdtempSync(join(tmpdir(), 'dogwatch-awscli-'));
});
after(async () => {
  await emulator.stop();
  rmSync(home, { recursive: true, force: true });
});

/** A fresh shell's environment with only the README's exports: no AWS_* of this machine, no ~/.aws. */
function shellEnv(exports: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
  return { ...env, HOME: home, ...exports };
}

async function aws(cli: string, args: string[], env: NodeJS.ProcessEnv): Promise<unknown> {
  const withPort = args.map((arg) => arg.replace('127.0.0.1:4566', `127.0.0.1:${port}`));
  const { stdout } = await run(cli, [...withPort, '--output', 'json'], { env, timeout: 60_000 });
  return JSON.parse(stdout);
}

describe('the AWS CLI against the emulator', { skip }, () => {
  for (const cli of clis) {
    test(`${cli}: the README snippet as written, get-metric-data, get-metric-statistics, an error`, async () => {
      const version = (await run(cli, ['--version'], { env: shellEnv({}) })).stdout.trim();
      const { env: exports, commands } = readmeSnippet();
      assert.ok(commands.length >= 3, 'the README snippet has its aws commands');
      const env = shellEnv(exports);
      const endpoint = ['--endpoint-url', `http://127.0.0.1:${port}`];

      const results = await Promise.all(commands.map((command) => aws(cli, command, env)));
      const [metrics, functions, identity] = results as [
        { Metrics: { Namespace: string }[] },
        { Functions: { FunctionName: string }[] },
        { Account: string },
      ];
      assert.ok(
        metrics.Metrics.length > 10 && metrics.Metrics.every((m) => m.Namespace === 'AWS/Lambda'),
        version,
      );
      assert.ok(
        functions.Functions.some((f) => f.FunctionName === 'orders-handler'),
        version,
      );
      assert.equal(identity.Account, '123456789012');

      const end = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000);
      const start = new Date(end.getTime() - 10 * 60_000);
      const dimensions = [{ Name: 'FunctionName', Value: 'orders-handler' }];
      const window = ['--start-time', start.toISOString(), '--end-time', end.toISOString()];
      const data = (await aws(
        cli,
        [
          ...endpoint,
          'cloudwatch',
          'get-metric-data',
          ...window,
          '--metric-data-queries',
          JSON.stringify([
            {
              Id: 'q1',
              MetricStat: {
                Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: dimensions },
                Period: 60,
                Stat: 'Sum',
              },
            },
          ]),
        ],
        env,
      )) as {
        MetricDataResults: { Id: string; Timestamps: unknown[]; Values: number[]; StatusCode: string }[];
      };
      const [result] = data.MetricDataResults;
      assert.equal(result?.Id, 'q1', version);
      assert.equal(result?.StatusCode, 'Complete');
      assert.equal(result?.Values.length, 10, `${version}: one Sum per minute of the window`);
      assert.equal(result?.Timestamps.length, 10);

      const stats = (await aws(
        cli,
        [
          ...endpoint,
          'cloudwatch',
          'get-metric-statistics',
          '--namespace',
          'AWS/Lambda',
          '--metric-name',
          'Duration',
          '--dimensions',
          'Name=FunctionName,Value=orders-handler',
          ...window,
          '--period',
          '300',
          '--extended-statistics',
          'p99',
        ],
        env,
      )) as { Label: string; Datapoints: { ExtendedStatistics: Record<string, number> }[] };
      assert.equal(stats.Label, 'Duration');
      assert.ok(
        stats.Datapoints.length >= 1 &&
          stats.Datapoints.every((d) => typeof d.ExtendedStatistics.p99 === 'number'),
        version,
      );

      await assert.rejects(
        run(cli, [...endpoint, 'cloudwatch', 'list-metrics', '--recently-active', 'PT1H'], {
          env,
          timeout: 60_000,
        }),
        (error: { stderr?: string }) => {
          assert.match(
            error.stderr ?? '',
            /\(InvalidParameterValue\) when calling the ListMetrics operation: The parameter RecentlyActive must be PT3H/,
            version,
          );
          return true;
        },
      );
      console.log(`${version}: README snippet, get-metric-data, get-metric-statistics and an error OK`);
    });
  }
});
