import { sha1 } from '../state/cursor-id.js';
import type { CloudWatchIntegration, RegionContext } from './integration.js';
import type { MetricSelection } from './metric-selection.js';
import type { SeriesTags } from './planned-query.js';
import type { Series } from './series.js';
import type { AwsTagsByArn } from './series-discovery.js';

/**
 * The tags of a region's series for one plan: the identifying ones (the scope's dimension tags,
 * `region`, `aws_account`, `case_id`) first, then the integration's descriptive ones.
 *
 * Every series of a resource gets the same tags, so each distinct list is built once and shared by the
 * plan's queries — and, through identity caches, by the runtime's tag merging and the sink's encoding.
 * Lists of the previous plan are reused by content, so that queries whose tags did not change can be
 * kept as they are.
 */
export class SeriesTagger<R> {
  readonly tagLists = new Map<string, SeriesTags>();
  private readonly tagStrings = new Map<string, string>();
  private readonly baseTags: readonly string[];

  constructor(
    private readonly integration: CloudWatchIntegration<R>,
    private readonly selection: MetricSelection,
    private readonly context: RegionContext,
    private readonly resources: R,
    private readonly awsTags: AwsTagsByArn,
    private readonly previous: ReadonlyMap<string, SeriesTags> | undefined,
  ) {
    this.baseTags = [`region:${context.region}`, `aws_account:${context.accountId}`];
  }

  /** The tags of a series the selection accepted (its scope exists). */
  tagsOf(series: Series): SeriesTags {
    const rule = this.selection.scopeOf(series)!;
    const identifying = [
      ...(rule.tags ? rule.tags(series) : series.dimensions.map((d) => `${d.Name.toLowerCase()}:${d.Value}`)),
      ...this.baseTags,
      ...caseIdTags(series, rule.userNamed),
    ];
    const descriptive =
      this.integration.seriesTags?.(series, this.resources, this.context, this.awsTags) ?? [];
    const tags = [...identifying, ...descriptive];
    const content = `${identifying.length}\u0000${tags.join('\u0000')}`;
    let shared = this.tagLists.get(content);
    if (shared === undefined && (shared = this.previous?.get(content)) !== undefined)
      this.tagLists.set(content, shared);
    if (shared === undefined) {
      shared = { tags: tags.map((tag) => this.flat(tag)), identity: identifying.length };
      this.tagLists.set(content, shared);
    }
    return shared;
  }

  /** One flat copy of each distinct tag: tags built by templates are ropes of two or three strings. */
  private flat(tag: string): string {
    let known = this.tagStrings.get(tag);
    if (known === undefined) {
      known = JSON.parse(JSON.stringify(tag)) as string;
      this.tagStrings.set(known, known);
    }
    return known;
  }
}

/**
 * Datadog lowercases tags, and AWS names are case-sensitive: `Orders` and `orders` are two Lambda
 * functions (two API stages, two routes) that would land on one series. A series whose user-chosen
 * names hold an upper-case letter therefore also carries `case_id:<6 hex>`, a hash of those exact
 * names: stable, and different for every spelling. All-lowercase names (most) carry none, nor do
 * names AWS fixes (Rekognition operations, HTTP methods).
 */
export function caseIdTags(series: Series, userNamed: readonly string[] = []): string[] {
  const named = series.dimensions.filter((d) => userNamed.includes(d.Name));
  if (!named.some((d) => /[A-Z]/.test(d.Value))) return [];
  return [`case_id:${sha1(named.map((d) => d.Value).join('\u0000'), 'hex').slice(0, 6)}`];
}
