import type { DemoScreen } from './demo-screen.js';

/** GetMetricData is billed per metric requested: $0.01 per 1,000 (SPEC §4). */
const USD_PER_METRIC_REQUESTED = 0.01 / 1000;
const CHECKS = [
  ['amazon_lambda', 'aws.lambda.'],
  ['amazon_api_gateway', 'aws.apigateway.'],
  ['amazon_rekognition', 'aws.rekognition.'],
] as const;

export interface ReceivedLine {
  readonly metric: string;
  readonly series: string;
  readonly line: string;
}

/** What the demo saw, for the closing report. */
export interface DemoResults {
  readonly received: readonly ReceivedLine[];
  /** Service check name → OK / WARNING / CRITICAL / UNKNOWN. */
  readonly serviceChecks: ReadonlyMap<string, string>;
  /** `<check>: <warning>` raised on the instances. */
  readonly warnings: readonly string[];
  readonly metricsRequested: number;
  readonly getMetricDataCalls: number;
  readonly virtualMinutes: number;
  readonly interrupted: boolean;
}

const count = (n: number): string => n.toLocaleString('en-US');

/** A few lines from different metrics, for show. */
function pickSamples(lines: readonly ReceivedLine[], wanted: number): string[] {
  const seen = new Set<string>();
  const picked: string[] = [];
  for (const r of lines) {
    if (seen.has(r.metric)) continue;
    seen.add(r.metric);
    picked.push(r.line);
    if (picked.length === wanted) break;
  }
  return picked;
}

function reportCheck(screen: DemoScreen, results: DemoResults, check: string, prefix: string): void {
  const lines = results.received.filter((r) => r.metric.startsWith(prefix));
  const names = [...new Set(lines.map((r) => r.metric))].sort();
  const series = new Set(lines.map((r) => r.series));
  const health = results.serviceChecks.get(`${check}.can_connect`) ?? 'not reported';
  screen.heading(
    `${check}: ${names.length} metric names, ${count(series.size)} series, ${count(lines.length)} points`,
  );
  screen.line(
    `  can_connect: ${screen.style(health === 'OK' ? 'green' : 'red', health)}` +
      `   (a service check per instance)`,
  );
  screen.list('metrics: ', names, '  ', 3);
  for (const sample of pickSamples(lines, 2)) screen.datagram(sample);
}

function reportEdge(screen: DemoScreen, received: readonly ReceivedLine[]): void {
  const edge = received.filter((r) => r.line.includes('at_edge:true'));
  const regions = new Set(edge.map((r) => /region:([^,|]+)/.exec(r.line)?.[1]));
  screen.heading(
    `Lambda@Edge: ${new Set(edge.map((r) => r.series)).size} replica series in ${regions.size} regions, ` +
      'tagged to their us-east-1 master',
  );
  for (const sample of pickSamples(edge, 1)) screen.datagram(sample);
  const dotted = received.find((r) => r.line.includes('functionname:my.func'));
  if (dotted) {
    screen.text(
      `  my.func has a dot in its name but is an ordinary function: ${
        dotted.line.includes('at_edge') ? 'WRONGLY tagged at_edge' : 'no at_edge tag'
      }`,
      '  ',
    );
  }
}

function reportCost(screen: DemoScreen, results: DemoResults): void {
  const usd = (metrics: number): string => `$${(metrics * USD_PER_METRIC_REQUESTED).toFixed(4)}`;
  const perHour = (results.metricsRequested / Math.max(1, results.virtualMinutes)) * 60;
  screen.heading('CloudWatch cost (GetMetricData: $0.01 per 1,000 metrics requested)');
  screen.text(
    `  ${count(results.metricsRequested)} metrics requested in ${results.getMetricDataCalls} ` +
      `GetMetricData calls over ${results.virtualMinutes.toFixed(0)} CloudWatch minutes = ` +
      `${usd(results.metricsRequested)}`,
    '  ',
  );
  screen.text(
    `  polling every 60 s: ≈ ${usd(perHour)}/hour; every 300 s: ≈ ${usd(perHour / 5)}/hour ` +
      '(the same points, each with its timestamp)',
    '  ',
  );
}

/** The closing report: what arrived per check, Lambda@Edge, warnings, cost. */
export function printDemoReport(screen: DemoScreen, results: DemoResults): void {
  screen.line();
  screen.text(
    results.interrupted ? 'Stopped (Ctrl-C). What arrived:' : 'What the local DogStatsD listener received:',
    '',
    'bold',
  );
  for (const [check, prefix] of CHECKS) reportCheck(screen, results, check, prefix);
  reportEdge(screen, results.received);
  if (results.warnings.length > 0) {
    screen.heading('Warnings on the instances (`dogwatch status` shows them too)');
    for (const warning of [...new Set(results.warnings)].slice(0, 3))
      screen.text(`  - ${warning}`, '    ', 'yellow');
  }
  reportCost(screen, results);
  screen.line();
  screen.text(
    'Next: `npm test` runs the test suite; README.md explains the configuration and running ' +
      'next to a Datadog Agent.',
  );
  screen.text(
    'Dashboards and recommended monitors for these metrics: `dogwatch assets list`; install them with ' +
      '`DD_API_KEY=… DD_APP_KEY=… dogwatch assets install` (README: Dashboards and monitors).',
  );
}
