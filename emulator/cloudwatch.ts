/**
 * CloudWatch over AWS JSON 1.0 (target GraniteServiceVersion20100801): ListMetrics, GetMetricData,
 * GetMetricStatistics.
 *
 * Period alignment (a contract tests rely on): the first period starts at StartTime rounded down to a
 * multiple of Period (epoch-aligned); periods are returned while their start is before EndTime. Points
 * count only the minutes already visible at clock.now() (see World.visibleAt). Retention as AWS:
 * 60 s periods reach back 15 days, periods under an hour 63 days, longer ones 455 days.
 */
import type { Clock } from '../core/clock.js';
import { input, type Call, type HandlerResult } from './call.js';
import { isSupportedStatistic, readStatistic } from './datapoints.js';
import { AwsError, decodeToken, encodeToken, fingerprint, parseJsonBody } from './wire.js';
import type { Dimension, Series, World } from './world.js';

export const LIST_METRICS_PAGE = 500;
export const MAX_QUERIES = 500;
export const MAX_DATAPOINTS_PER_PAGE = 100_800;
export const MAX_STATISTICS_DATAPOINTS = 1440;

const DAY_MS = 86_400_000;

function invalid(message: string): AwsError {
  return new AwsError('InvalidParameterValueException', message, 400, 'InvalidParameterValue');
}
function validation(message: string): AwsError {
  return new AwsError('ValidationException', message, 400, 'ValidationError');
}

function readTime(obj: Record<string, unknown>, key: string): number {
  const v = obj[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v * 1000;
  if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return Date.parse(v);
  throw new AwsError(
    'MissingRequiredParameterException',
    `The parameter ${key} is required.`,
    400,
    'MissingParameter',
  );
}

function readDimensions(obj: Record<string, unknown>): Dimension[] {
  return input
    .list(obj, 'Dimensions')
    .map((d) => ({ Name: input.str(d, 'Name') ?? '', Value: input.str(d, 'Value') ?? '' }));
}

function retentionStart(now: number, periodSeconds: number): number {
  if (periodSeconds < 300) return now - 15 * DAY_MS;
  if (periodSeconds < 3600) return now - 63 * DAY_MS;
  return now - 455 * DAY_MS;
}

/** Period starts with data to look at, oldest first. Empty for high-resolution periods (no such data). */
function periodStarts(startMs: number, endMs: number, periodSeconds: number, now: number): number[] {
  if (periodSeconds < 60) return [];
  const periodMs = periodSeconds * 1000;
  const floor = retentionStart(now, periodSeconds);
  const out: number[] = [];
  for (let t = Math.floor(startMs / periodMs) * periodMs; t < endMs && t <= now; t += periodMs) {
    if (t + periodMs > floor) out.push(t);
  }
  return out;
}

function validatePeriod(period: number | undefined, where: string): number {
  if (period === undefined)
    throw new AwsError(
      'MissingRequiredParameterException',
      `The parameter ${where} is required.`,
      400,
      'MissingParameter',
    );
  if (
    !Number.isInteger(period) ||
    period < 1 ||
    (period >= 60 ? period % 60 !== 0 : ![1, 5, 10, 30].includes(period))
  ) {
    throw invalid(`The parameter ${where} must be 1, 5, 10, 30, or a multiple of 60.`);
  }
  return period;
}

interface PlannedQuery {
  id: string;
  label: string;
  series: Series | undefined;
  stat: string;
  period: number;
  returnData: boolean;
  unit: string | undefined;
}

export class CloudWatchService {
  constructor(
    private readonly world: World,
    private readonly clock: Clock,
  ) {}

  handle(call: Call): HandlerResult {
    const body = parseJsonBody(call.body);
    switch (call.operation) {
      case 'ListMetrics':
        return this.listMetrics(call, body);
      case 'GetMetricData':
        return this.getMetricData(call, body);
      case 'GetMetricStatistics':
        return this.getMetricStatistics(call, body);
      default:
        throw new AwsError(
          'UnknownOperationException',
          `Operation ${call.operation} is not supported by the emulator`,
          400,
          'InvalidAction',
        );
    }
  }

  private listMetrics(call: Call, body: Record<string, unknown>): HandlerResult {
    const namespace = input.str(body, 'Namespace');
    const metricName = input.str(body, 'MetricName');
    const recentlyActive = input.str(body, 'RecentlyActive');
    if (recentlyActive !== undefined && recentlyActive !== 'PT3H')
      throw invalid('The parameter RecentlyActive must be PT3H.');
    const filters = input.list(body, 'Dimensions').map((d) => ({
      name: input.str(d, 'Name') ?? '',
      value: input.str(d, 'Value'),
    }));
    if (filters.length > 10) throw invalid('The collection Dimensions must not have a size greater than 10.');
    const token = input.str(body, 'NextToken');
    const fp = fingerprint([call.account, call.region, namespace, metricName, filters, recentlyActive]);
    const start = token === undefined ? 0 : decodeToken(token, fp);
    if (start === undefined)
      throw new AwsError('InvalidNextToken', 'The service returned an invalid NextToken.', 400);

    // Every series has data from the world's start, so all are "recently active".
    const matches = this.world
      .seriesIn(call.account, call.region)
      .filter(
        (s) =>
          (namespace === undefined || s.namespace === namespace) &&
          (metricName === undefined || s.metricName === metricName) &&
          filters.every((f) =>
            s.dimensions.some((d) => d.Name === f.name && (f.value === undefined || d.Value === f.value)),
          ),
      );
    const page = matches.slice(start, start + LIST_METRICS_PAGE);
    const next =
      start + LIST_METRICS_PAGE < matches.length ? encodeToken(start + LIST_METRICS_PAGE, fp) : undefined;
    return {
      body: JSON.stringify({
        Metrics: page.map((s) => ({
          Namespace: s.namespace,
          MetricName: s.metricName,
          Dimensions: s.dimensions,
        })),
        ...(next ? { NextToken: next } : {}),
      }),
    };
  }

  private planQueries(call: Call, body: Record<string, unknown>): PlannedQuery[] {
    const raw = input.list(body, 'MetricDataQueries');
    if (raw.length === 0)
      throw new AwsError(
        'MissingRequiredParameterException',
        'The parameter MetricDataQueries is required.',
        400,
        'MissingParameter',
      );
    if (raw.length > MAX_QUERIES) {
      throw validation(
        `1 validation error detected: Value at 'metricDataQueries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_QUERIES}`,
      );
    }
    const seen = new Set<string>();
    return raw.map((q, i) => {
      const id = input.str(q, 'Id') ?? '';
      const where = `MetricDataQueries.member.${i + 1}`;
      if (!/^[a-z][a-zA-Z0-9_]*$/.test(id) || id.length > 255)
        throw validation(`The value ${id} for parameter ${where}.Id is not valid.`);
      if (seen.has(id)) throw validation(`The values for parameter id in MetricDataQueries are not unique.`);
      seen.add(id);
      if (input.str(q, 'Expression') !== undefined) {
        throw validation(
          `${where}.Expression: metric math and search expressions are not supported by the emulator.`,
        );
      }
      const stat = input.obj(q, 'MetricStat');
      if (!stat)
        throw validation(
          `Exactly one element of the MetricStat or Expression fields must be specified in ${where}.`,
        );
      const metric = input.obj(stat, 'Metric') ?? {};
      const statName = input.str(stat, 'Stat') ?? '';
      if (!isSupportedStatistic(statName))
        throw invalid(`The value ${statName} for parameter ${where}.MetricStat.Stat is not valid.`);
      const period = validatePeriod(input.num(stat, 'Period'), `${where}.MetricStat.Period`);
      const namespace = input.str(metric, 'Namespace') ?? '';
      const metricName = input.str(metric, 'MetricName') ?? '';
      const series = this.world.findSeries(
        call.account,
        call.region,
        namespace,
        metricName,
        readDimensions(metric),
      );
      return {
        id,
        label: input.str(q, 'Label') ?? metricName,
        series,
        stat: statName,
        period,
        returnData: q['ReturnData'] !== false,
        unit: input.str(stat, 'Unit'),
      };
    });
  }

  private getMetricData(call: Call, body: Record<string, unknown>): HandlerResult {
    const queries = this.planQueries(call, body);
    const startMs = readTime(body, 'StartTime');
    const endMs = readTime(body, 'EndTime');
    if (startMs >= endMs)
      throw validation('The parameter StartTime must be less than the parameter EndTime.');
    const scanBy = input.str(body, 'ScanBy') ?? 'TimestampDescending';
    if (scanBy !== 'TimestampDescending' && scanBy !== 'TimestampAscending')
      throw invalid('The parameter ScanBy is not valid.');
    const maxDatapoints = input.num(body, 'MaxDatapoints');
    if (maxDatapoints !== undefined && (!Number.isInteger(maxDatapoints) || maxDatapoints < 1))
      throw invalid('The parameter MaxDatapoints must be a positive integer.');
    const pageLimit = Math.min(maxDatapoints ?? MAX_DATAPOINTS_PER_PAGE, MAX_DATAPOINTS_PER_PAGE);

    const fp = fingerprint([
      call.account,
      call.region,
      body['MetricDataQueries'],
      startMs,
      endMs,
      scanBy,
      pageLimit,
    ]);
    const token = input.str(body, 'NextToken');
    // The token is a flat position: query index × 1e7 + points of that query already returned.
    const position = token === undefined ? 0 : decodeToken(token, fp);
    if (position === undefined)
      throw new AwsError('InvalidNextToken', 'The service returned an invalid NextToken.', 400);
    let queryIndex = Math.floor(position / 1e7);
    let offset = position % 1e7;

    const now = this.clock.now();
    const results: {
      Id: string;
      Label: string;
      Timestamps: number[];
      Values: number[];
      StatusCode: string;
    }[] = [];
    let budget = pageLimit;
    let next: string | undefined;
    let returned = 0;
    for (; queryIndex < queries.length; queryIndex++, offset = 0) {
      const q = queries[queryIndex]!;
      if (!q.returnData) continue;
      if (budget === 0) {
        next = encodeToken(queryIndex * 1e7 + offset, fp);
        break;
      }
      const points = this.points(q, startMs, endMs, now);
      if (scanBy === 'TimestampDescending') points.reverse();
      const take = points.slice(offset, offset + budget);
      budget -= take.length;
      returned += take.length;
      const complete = offset + take.length >= points.length;
      results.push({
        Id: q.id,
        Label: q.label,
        Timestamps: take.map((p) => p[0] / 1000),
        Values: take.map((p) => p[1]),
        StatusCode: complete ? 'Complete' : 'PartialData',
      });
      if (!complete) {
        next = encodeToken(queryIndex * 1e7 + offset + take.length, fp);
        break;
      }
    }
    return {
      body: JSON.stringify({
        MetricDataResults: results,
        Messages: [],
        ...(next ? { NextToken: next } : {}),
      }),
      metricsRequested: queries.length,
      datapoints: returned,
    };
  }

  /** [timestampMs, value] pairs of one query, oldest first. */
  private points(q: PlannedQuery, startMs: number, endMs: number, now: number): [number, number][] {
    const { series } = q;
    if (!series || (q.unit !== undefined && q.unit !== series.unit)) return [];
    const out: [number, number][] = [];
    for (const t of periodStarts(startMs, endMs, q.period, now)) {
      const point = this.world.datapoint(series, t, q.period, now);
      const value = point && readStatistic(point, q.stat);
      if (value !== undefined) out.push([t, value]);
    }
    return out;
  }

  private getMetricStatistics(call: Call, body: Record<string, unknown>): HandlerResult {
    const namespace = input.str(body, 'Namespace');
    const metricName = input.str(body, 'MetricName');
    if (!namespace || !metricName)
      throw new AwsError(
        'MissingRequiredParameterException',
        'The parameters Namespace and MetricName are required.',
        400,
        'MissingParameter',
      );
    const statistics = input.strings(body, 'Statistics');
    const extended = input.strings(body, 'ExtendedStatistics');
    if ((statistics.length === 0) === (extended.length === 0)) {
      throw new AwsError(
        'InvalidParameterCombinationException',
        'Must specify either Statistics or ExtendedStatistics, but not both.',
        400,
        'InvalidParameterCombination',
      );
    }
    for (const s of statistics) {
      if (!['Average', 'Sum', 'Minimum', 'Maximum', 'SampleCount'].includes(s))
        throw invalid(`The value ${s} for parameter Statistics is not valid.`);
    }
    for (const s of extended)
      if (!isSupportedStatistic(s) || !s.startsWith('p'))
        throw invalid(`The value ${s} for parameter ExtendedStatistics is not valid.`);
    const startMs = readTime(body, 'StartTime');
    const endMs = readTime(body, 'EndTime');
    if (startMs >= endMs) throw invalid('The parameter StartTime must be less than the parameter EndTime.');
    const period = validatePeriod(input.num(body, 'Period'), 'Period');
    const requested = Math.ceil((endMs - startMs) / (period * 1000));
    if (requested > MAX_STATISTICS_DATAPOINTS) {
      throw new AwsError(
        'InvalidParameterCombinationException',
        `You have requested up to ${requested} datapoints, which exceeds the limit of ${MAX_STATISTICS_DATAPOINTS}. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`,
        400,
        'InvalidParameterCombination',
      );
    }
    const unitFilter = input.str(body, 'Unit');
    const series = this.world.findSeries(
      call.account,
      call.region,
      namespace,
      metricName,
      readDimensions(body),
    );
    const now = this.clock.now();
    const datapoints: Record<string, unknown>[] = [];
    if (series && (unitFilter === undefined || unitFilter === series.unit)) {
      for (const t of periodStarts(startMs, endMs, period, now)) {
        const point = this.world.datapoint(series, t, period, now);
        if (!point) continue;
        const dp: Record<string, unknown> = { Timestamp: t / 1000, Unit: series.unit };
        for (const s of statistics) dp[s] = readStatistic(point, s);
        if (extended.length)
          dp['ExtendedStatistics'] = Object.fromEntries(extended.map((s) => [s, readStatistic(point, s)]));
        datapoints.push(dp);
      }
    }
    return {
      body: JSON.stringify({ Label: metricName, Datapoints: datapoints }),
      datapoints: datapoints.length,
    };
  }
}
