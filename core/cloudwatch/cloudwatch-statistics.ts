/**
 * The statistics CloudWatch computes, as its documentation names them ("CloudWatch statistics
 * definitions", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html):
 * SampleCount, Sum, Average, Minimum, Maximum, IQM; percentiles `pNN` (p99, p99.9); the short forms of the
 * trimmed mean, winsorized mean, trimmed count and trimmed sum (`tm99`, `wm98`, `tc90`, `ts90`), whose
 * number is a percentage from 0 to 100 with up to 10 decimals; and their bounded forms with percentages
 * or absolute values, one bound optional (`TM(10%:90%)`, `TC(0.005:0.030)`, `TS(80%:)`, `PR(:300)`).
 */
import { closestMatch } from '../messages/did-you-mean.js';

export const SIMPLE_STATISTICS = ['SampleCount', 'Sum', 'Average', 'Minimum', 'Maximum', 'IQM'] as const;

/** What a user may write, for messages. */
export const STATISTICS_EXPECTED =
  'a CloudWatch statistic (Average, Sum, Minimum, Maximum, SampleCount, IQM, a percentile such as p99 ' +
  'or p99.9, tm99, wm99, tc99, ts99, or a range such as TM(10%:90%)) or a glob such as p9*';

const PERCENT = '\\d{1,3}(?:\\.\\d{1,10})?';
const SHORT_FORM = new RegExp(`^(p|tm|wm|tc|ts)(${PERCENT})$`);
const BOUND = '\\d+(?:\\.\\d{1,10})?%?';
const RANGE_FORM = new RegExp(`^(TM|WM|TC|TS|PR)\\((${BOUND})?:(${BOUND})?\\)$`);

/** Words people write for a statistic CloudWatch names otherwise. */
const SYNONYMS: Readonly<Record<string, string>> = {
  median: 'p50',
  mean: 'Average',
  avg: 'Average',
  min: 'Minimum',
  max: 'Maximum',
  count: 'SampleCount',
  samples: 'SampleCount',
  total: 'Sum',
};
const COMMON = [...SIMPLE_STATISTICS, 'p50', 'p90', 'p95', 'p99', 'p99.9'];

const percentOk = (text: string | undefined): boolean =>
  text === undefined || !text.endsWith('%') || Number(text.slice(0, -1)) <= 100;

export function isCloudWatchStatistic(name: string): boolean {
  if ((SIMPLE_STATISTICS as readonly string[]).includes(name)) return true;
  const short = SHORT_FORM.exec(name);
  if (short) return Number(short[2]) <= 100;
  const range = RANGE_FORM.exec(name);
  if (!range || (range[2] === undefined && range[3] === undefined)) return false;
  return percentOk(range[2]) && percentOk(range[3]);
}

/** A glob (`p9*`) or a `/regular expression/`: matched against the statistics a check collects. */
export function isStatisticPattern(text: string): boolean {
  return /[*?]/.test(text) || (text.length > 2 && text.startsWith('/') && text.endsWith('/'));
}

/** The statistic a user most likely meant by `name`, when one is close. */
export function suggestStatistic(name: string): string | undefined {
  if (name.length > 64) return undefined;
  const lower = name.toLowerCase();
  if (SYNONYMS[lower] !== undefined) return SYNONYMS[lower];
  // Case: P99 → p99, tm(10%:90%) → TM(10%:90%), sum → Sum.
  for (const candidate of [
    lower,
    name.toUpperCase().replace(/^(P|TM|WM|TC|TS)(?=\d)/, (m) => m.toLowerCase()),
  ])
    if (candidate !== name && isCloudWatchStatistic(candidate)) return candidate;
  // p999 → p99.9: a percentile written without its decimal point.
  const digits = /^p(\d{3,})$/i.exec(name)?.[1];
  if (digits !== undefined && digits.startsWith('99')) return `p99.${digits.slice(2)}`;
  return closestMatch(name, COMMON);
}
