import type { DemoScreen } from './demo-screen.js';

/** GetMetricData is billed per metric requested: $0.01 per 1,000 (SPEC §4). */
const USD_PER_METRIC_REQUESTED = 0.01 / 1000;
/** The instance tag `<CHECK_TAG>:<check>` each demo instance puts on its points, so lines group by check. */
export const CHECK_TAG = 'integration';

export interface ReceivedLine {
  readonly metric: string;
  readonly series: string;
  readonly line: string;
  /** The check that sent it (its CHECK_TAG tag). */
  readonly check: string | undefined;
}

/** A DogStatsD event that arrived (a deployment event), by its title. */
export interface ReceivedEvent {
  readonly title: string;
  readonly check: string | undefined;
}

/** One log line the local logs listener received. */
export interface ReceivedLog {
  readonly ddsource: string;
  readonly service: string;
  readonly group: string;
  readonly line: string;
}

/** What the demo saw, for the closing report. */
export interface DemoResults {
  /** The checks the daemon ran, in the container's order. */
  readonly checks: readonly string[];
  readonly received: readonly ReceivedLine[];
  readonly events: readonly ReceivedEvent[];
  /** Log lines the local logs listener received (collect_logs). */
  readonly logs: readonly ReceivedLog[];
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

function reportCheck(screen: DemoScreen, results: DemoResults, check: string): void {
  const lines = results.received.filter((r) => r.check === check);
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
  const events = results.events.filter((e) => e.check === check);
  if (events.length > 0)
    screen.text(`  ${count(events.length)} deployment event(s), e.g. "${events[0]!.title}"`, '    ');
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

function reportLogs(screen: DemoScreen, logs: readonly ReceivedLog[]): void {
  const groups = new Set(logs.map((l) => l.group));
  screen.heading(
    `Logs (collect_logs): ${count(logs.length)} lines from ${groups.size} log groups, ` +
      'to the local logs listener',
  );
  for (const ddsource of [...new Set(logs.map((l) => l.ddsource))].sort()) {
    const mine = logs.filter((l) => l.ddsource === ddsource);
    const services = [...new Set(mine.map((l) => l.service))].sort();
    screen.list(`ddsource:${ddsource}, ${count(mine.length)} lines, services: `, services, '  ', 2);
    const sample = mine.find((l) => l.line.includes('REPORT RequestId')) ?? mine[0];
    if (!sample) continue;
    const record = JSON.parse(sample.line) as Record<string, unknown>;
    const message = String(record.message).replace(/\t/g, ' ');
    screen.datagram(`${sample.group}: ${message.length > 160 ? `${message.slice(0, 160)}…` : message}`);
    screen.list('attributes: ', Object.keys(record).sort(), '    ', 2);
  }
}

/** The enhanced Lambda metrics derived from the REPORT lines (enhanced_metrics), once minutes are final. */
function reportEnhanced(screen: DemoScreen, received: readonly ReceivedLine[]): void {
  const enhanced = received.filter((r) => r.metric.startsWith('aws.lambda.enhanced.'));
  screen.heading(
    `Enhanced Lambda metrics (enhanced_metrics): ${count(enhanced.length)} points from the REPORT lines`,
  );
  if (enhanced.length === 0) {
    screen.text(
      "  none yet: a minute is sent once it is final, about 11 minutes plus the function's timeout after it",
      '    ',
    );
    return;
  }
  screen.list('  metrics: ', [...new Set(enhanced.map((r) => r.metric))].sort(), '    ', 3);
  const sample = enhanced.find((r) => r.metric === 'aws.lambda.enhanced.invocations') ?? enhanced[0]!;
  screen.datagram(sample.line.length > 160 ? `${sample.line.slice(0, 160)}…` : sample.line);
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
  for (const check of results.checks) reportCheck(screen, results, check);
  reportEdge(screen, results.received);
  reportLogs(screen, results.logs);
  if (results.checks.includes('amazon_lambda')) reportEnhanced(screen, results.received);
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
