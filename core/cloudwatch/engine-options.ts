import { z } from 'zod';

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

const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

/**
 * Instance options every CloudWatch check shares. The names are fixed: users' files and other tools
 * rely on them. A check extends this shape with its own options.
 */
export const cloudWatchInstanceShape = {
  regions: z
    .union([z.literal('all'), z.array(z.string().regex(REGION, 'an AWS region such as us-east-1')).min(1)])
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
  statistics: selection.describe(
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
