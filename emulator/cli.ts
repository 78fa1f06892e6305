/**
 * Standalone AWS emulator for the demo, benchmarks and manual poking with the AWS CLI.
 *
 *   node dist/emulator/cli.js --port 4566 --world small [--functions N] [--latency-ms 40] [--speed 60]
 *
 * Time: DOGWATCH_CLOCK (see core/clock.ts) when set, so dogwatch and the emulator share virtual time;
 * else `--speed N` runs a ScaledClock from now; else the system clock.
 */
import { Command, InvalidArgumentError } from 'commander';
import { ScaledClock, clockFromSpec, type Clock } from '../core/clock.js';
import { DEFAULT_ACCESS_KEY, SMALL_WORLD, type WorldOptions } from './world.js';
import { AwsEmulator } from './emulator.js';

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

interface CliOptions {
  port: number;
  world: string;
  seed?: number;
  functions?: number;
  edgeFunctions?: number;
  restApis?: number;
  httpApis?: number;
  websocketApis?: number;
  regions?: string;
  latencyMs: number;
  speed?: number;
  delayBase: number;
  delayJitter: number;
  quotas: boolean;
}

const program = new Command()
  .name('dogwatch-aws-emulator')
  .description(
    'Local, wire-compatible AWS emulator (CloudWatch, Lambda, Tagging, API Gateway, CloudTrail, STS)',
  )
  .option('--port <n>', 'port on 127.0.0.1 (0 = random)', integer, 4566)
  .option('--world <preset>', 'world preset: small', 'small')
  .option('--seed <n>', 'world seed', integer)
  .option('--functions <n>', 'Lambda functions per account and region', integer)
  .option('--edge-functions <n>', 'Lambda@Edge masters per account', integer)
  .option('--rest-apis <n>', 'REST APIs per account and region', integer)
  .option('--http-apis <n>', 'HTTP APIs per account and region', integer)
  .option('--websocket-apis <n>', 'WebSocket APIs per account and region', integer)
  .option('--regions <list>', 'comma-separated regions holding resources')
  .option('--latency-ms <n>', 'latency added to every call', integer, 0)
  .option(
    '--speed <x>',
    'virtual time runs x times faster than real time (ignored when DOGWATCH_CLOCK is set)',
    positive,
  )
  .option('--delay-base <s>', 'publication delay base, seconds', integer, 60)
  .option('--delay-jitter <s>', 'publication delay jitter, seconds', integer, 60)
  .option('--no-quotas', 'disable per-operation request quotas');

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<CliOptions>();
  if (o.world !== 'small') throw new InvalidArgumentError(`unknown world preset "${o.world}" (known: small)`);
  const world: WorldOptions = { ...SMALL_WORLD };
  if (o.seed !== undefined) world.seed = o.seed;
  if (o.functions !== undefined) world.functions = o.functions;
  if (o.edgeFunctions !== undefined) world.edgeFunctions = o.edgeFunctions;
  if (o.restApis !== undefined) world.restApis = o.restApis;
  if (o.httpApis !== undefined) world.httpApis = o.httpApis;
  if (o.websocketApis !== undefined) world.websocketApis = o.websocketApis;
  if (o.regions) world.regions = o.regions.split(',').map((r) => r.trim());
  let clock: Clock;
  if (process.env['DOGWATCH_CLOCK']) clock = clockFromSpec(process.env['DOGWATCH_CLOCK']);
  else if (o.speed) clock = new ScaledClock(Date.now(), Date.now(), o.speed);
  else clock = clockFromSpec(undefined);

  const emulator = new AwsEmulator({
    world,
    clock,
    port: o.port,
    latencyMs: o.latencyMs,
    publicationDelay: { baseSeconds: o.delayBase, jitterSeconds: o.delayJitter },
    quotas: o.quotas ? {} : false,
  });
  const endpoint = await emulator.start();
  const lines = [
    `AWS emulator listening on ${endpoint} (${emulator.world.series().length} CloudWatch series, accounts ${emulator.world.accounts.join(', ')})`,
    clock instanceof ScaledClock ? `virtual clock: DOGWATCH_CLOCK=${clock.toSpec()}` : 'clock: system time',
    '',
    'Point the AWS CLI or an SDK at it:',
    `  export AWS_ENDPOINT_URL=${endpoint}`,
    `  export AWS_ACCESS_KEY_ID=${DEFAULT_ACCESS_KEY} AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1`,
    '  aws cloudwatch list-metrics --namespace AWS/Lambda',
    '  aws lambda list-functions --region eu-west-1 --master-region us-east-1 --function-version ALL',
    '',
    'Ctrl-C to stop.',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const shutdown = (signal: string) => {
    process.stdout.write(`\n${signal}: stopping\n`);
    emulator.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
