import type { DaemonStatus } from '../status/status-registry.js';

const ago = (iso: string | undefined): string => {
  if (!iso) return 'never';
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  return `${iso} (${seconds}s ago)`;
};

/** The Agent-style collector section of `dogwatch status`. */
export function printStatus(status: DaemonStatus, out: NodeJS.WritableStream): void {
  const lines: string[] = [
    `dogwatch ${status.version} (pid ${status.pid}), up since ${status.startedAt}`,
    '',
    '=========',
    'Collector',
    '=========',
  ];
  if (status.instances.length === 0) lines.push('', '  no instance is running');
  for (const i of status.instances) {
    lines.push(
      '',
      `  ${i.checkName}`,
      `  ${'-'.repeat(i.checkName.length)}`,
      `    Instance ID: ${i.instanceId} [${i.lastError && (!i.lastSuccess || i.lastError.time > i.lastSuccess) ? 'ERROR' : i.totalRuns ? 'OK' : 'PENDING'}]`,
      `    Configuration Source: ${i.source}`,
      `    Schedule: ${i.schedule}${i.running ? ' (running now)' : ''}`,
      `    Total Runs: ${i.totalRuns}   Skipped: ${i.skippedRuns}   Timeouts: ${i.timeouts}   Errors: ${i.errors}`,
      `    Metric Samples: Last Run: ${i.lastRunMetricSamples}, Total: ${i.metricSamples}`,
      `    Events: ${i.events}   Service Checks: ${i.serviceChecks}`,
      `    Average Execution Time: ${Math.round(i.averageExecutionMs)}ms   Last: ${i.lastExecutionMs}ms`,
      `    Last Execution Date: ${ago(i.lastExecution)}`,
      `    Last Successful Execution Date: ${ago(i.lastSuccess)}`,
    );
    for (const [name, s] of Object.entries(i.sources ?? {})) {
      const lag = s.cursorLagSeconds === undefined ? 'unknown' : `${Math.round(s.cursorLagSeconds)}s`;
      lines.push(
        `    Source ${name}: Sent: ${s.sent}   Not delivered: ${s.notDelivered}   Cursor lag: ${lag}`,
      );
    }
    if (i.lastError) lines.push(`    Last Error: ${i.lastError.message} (${i.lastError.time})`);
    if (i.warnings.length > 0) lines.push('    Warnings:', ...i.warnings.map((w) => `      - ${w}`));
  }
  if (status.configProblems.length > 0) {
    lines.push(
      '',
      '=============',
      'Config Errors',
      '=============',
      ...status.configProblems.map((p) => `  ✗ ${p}`),
    );
  }
  lines.push('', '=========', 'DogStatsD', '=========');
  for (const [key, value] of Object.entries(status.sink)) lines.push(`  ${key}: ${value}`);
  out.write(`${lines.join('\n')}\n`);
}
