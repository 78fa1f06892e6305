import { z } from 'zod';
import { isKnownRegion, siblingRegions, suggestRegion } from '../aws/aws-regions.js';
import { describeFound } from '../messages/describe-found.js';
import {
  isCloudWatchStatistic,
  isStatisticPattern,
  STATISTICS_EXPECTED,
  suggestStatistic,
} from './cloudwatch-statistics.js';

const selection = z
  .strictObject({
    include: z
      .array(z.string().min(1))
      .optional()
      .describe('Only these (glob patterns: * matches anything).'),
    exclude: z
      .array(z.string().min(1))
      .optional()
      .describe('Never these (glob patterns), applied after include.'),
  })
  .optional();

/** A region the AWS SDK's partition data lists, with a did-you-mean (see aws-regions.ts). */
const region = z.string().superRefine((name, context) => {
  if (isKnownRegion(name)) return;
  const suggestion = suggestRegion(name);
  const siblings = siblingRegions(name).filter((known) => known !== suggestion);
  const also = siblings.length > 0 ? `; known: ${siblings.join(', ')}` : '';
  context.addIssue({
    code: 'custom',
    message:
      `expected an AWS region (such as us-east-1) that the AWS SDK knows, found ${describeFound(name)}` +
      (suggestion !== undefined
        ? ` (did you mean ${suggestion}?${also})`
        : also
          ? ` (${also.slice(2)})`
          : ''),
    params: {
      hint:
        (suggestion !== undefined ? `write ${suggestion}; ` : '') +
        'a region launched after this build of dogwatch needs a newer AWS SDK (npm update @aws-sdk/core)',
    },
  });
});

/** One `statistics.include` / `exclude` entry: a CloudWatch statistic, or a glob over them. */
const statisticEntry = z
  .string()
  .min(1)
  .superRefine((name, context) => {
    if (isStatisticPattern(name) || isCloudWatchStatistic(name)) return;
    const suggestion = suggestStatistic(name);
    context.addIssue({
      code: 'custom',
      message:
        `expected ${STATISTICS_EXPECTED}, found ${describeFound(name)}` +
        (suggestion !== undefined ? ` (did you mean ${suggestion}?)` : ''),
      params: {
        hint:
          suggestion !== undefined
            ? `write ${JSON.stringify(suggestion)}`
            : 'write a statistic as CloudWatch names it (its "statistics definitions" page lists them)',
      },
    });
  });

const statisticsSelection = z
  .strictObject({
    include: z.array(statisticEntry).optional().describe('Only these (glob patterns: * matches anything).'),
    exclude: z
      .array(statisticEntry)
      .optional()
      .describe('Never these (glob patterns), applied after include.'),
  })
  .optional();

/**
 * Instance options every CloudWatch check shares. The names are fixed: users' files and other tools
 * rely on them. A check extends this shape with its own options.
 */
export const cloudWatchInstanceShape = {
  regions: z
    .union([z.literal('all'), z.array(region).min(1)])
    .describe('AWS regions to collect from: a list, or `all` for every region enabled in the account.'),
  role_arn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/,
      'an IAM role ARN such as arn:aws:iam::123456789012:role/dogwatch',
    )
    .optional()
    .describe('IAM role to assume with STS (credentials are refreshed before they expire).'),
  external_id: z.string().min(2).optional().describe('External ID for the role trust policy, with role_arn.'),
  endpoint_url: z
    .url()
    .optional()
    .describe('Override every AWS endpoint (the AWS emulator, a proxy). AWS_ENDPOINT_URL is honoured too.'),
  period: z
    .number()
    .int()
    .refine((p) => p === 1 || p === 5 || p === 10 || p === 30 || (p >= 60 && p % 60 === 0), {
      message: 'a CloudWatch period: 1, 5, 10, 30 or a multiple of 60',
    })
    .default(60)
    .describe('CloudWatch period in seconds; one datapoint per period per series.'),
  delay: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(120)
    .describe(
      'Seconds behind now that a window ends: periods newer than now-delay may still change in CloudWatch ' +
        'and are not asked for yet. Lower = fresher, higher = fewer late points re-asked.',
    ),
  late_horizon: z
    .number()
    .int()
    .min(0)
    .max(7200)
    .default(900)
    .describe(
      'A period with no point yet is asked for again on later runs until it is this many seconds old; ' +
        'after that a missing point is a gap in CloudWatch (never turned into a zero).',
    ),
  lookback: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('First-run window in seconds (default: one period).'),
  max_catchup: z
    .number()
    .int()
    .positive()
    .max(86_400)
    .default(3600)
    .describe('After downtime, catch up at most this many seconds (Datadog rejects points older than ~1 h).'),
  metrics: selection.describe(
    'Datadog metric names (aws.lambda.duration*) or CloudWatch names (Duration) to collect or skip.',
  ),
  statistics: statisticsSelection.describe(
    'Statistics to collect or skip, as CloudWatch names them: Average, Sum, p99, p99.9 …',
  ),
  include: z.array(z.string().min(1)).optional().describe('Resource name patterns to collect (glob).'),
  exclude: z.array(z.string().min(1)).optional().describe('Resource name patterns to skip (glob).'),
  tag_filters: z
    .record(z.string().min(1), z.array(z.string()).min(1))
    .optional()
    .describe('Collect only resources whose AWS tags match: {env: [prod, staging]} (all keys must match).'),
  discovery_ttl: z
    .number()
    .int()
    .min(30)
    .default(600)
    .describe('Seconds to cache ListMetrics, resource and tag discovery (refreshed in the background).'),
  recently_active: z
    .boolean()
    .default(true)
    .describe('Discover only series active in the last 3 hours (ListMetrics RecentlyActive=PT3H).'),
};

export const cloudWatchInstanceSchema = z.object(cloudWatchInstanceShape);
export type CloudWatchInstanceOptions = z.infer<typeof cloudWatchInstanceSchema>;

/** Turns `aws.lambda.duration*` into a RegExp. Patterns wrapped in /…/ are regular expressions. */
export function globToRegExp(pattern: string): RegExp {
  if (pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/'))
    return new RegExp(pattern.slice(1, -1));
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

export class NameFilter {
  private readonly include?: RegExp[];
  private readonly exclude: RegExp[];
  constructor(selection: { include?: readonly string[]; exclude?: readonly string[] } | undefined) {
    this.include = selection?.include?.map(globToRegExp);
    this.exclude = selection?.exclude?.map(globToRegExp) ?? [];
  }
  get narrows(): boolean {
    return this.include !== undefined;
  }
  /** True when any of the names is included and none is excluded. */
  accepts(...names: readonly (string | undefined)[]): boolean {
    const present = names.filter((n): n is string => n !== undefined);
    if (this.include && !present.some((n) => this.include!.some((r) => r.test(n)))) return false;
    return !present.some((n) => this.exclude.some((r) => r.test(n)));
  }
}
