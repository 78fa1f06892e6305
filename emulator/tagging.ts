/**
 * Resource Groups Tagging API (AWS JSON 1.1): GetResources, 100 resources a page. Like AWS it returns
 * only resources that carry at least one tag.
 */
import { input, type Call, type HandlerResult } from './call.js';
import { AwsError, decodeToken, encodeToken, fingerprint, parseJsonBody } from './wire.js';
import type { World } from './world.js';

export const GET_RESOURCES_PAGE = 100;

interface TaggedResource {
  arn: string;
  /** `service:resourceType`, e.g. `lambda:function`, `apigateway:restapis/stages`. */
  type: string;
  tags: Readonly<Record<string, string>>;
}

export class TaggingService {
  constructor(private readonly world: World) {}

  handle(call: Call): HandlerResult {
    if (call.operation !== 'GetResources') {
      throw new AwsError(
        'UnknownOperationException',
        `Operation ${call.operation} is not supported by the emulator`,
        400,
      );
    }
    const body = parseJsonBody(call.body);
    const typeFilters = input.strings(body, 'ResourceTypeFilters');
    const tagFilters = input
      .list(body, 'TagFilters')
      .map((f) => ({ key: input.str(f, 'Key') ?? '', values: input.strings(f, 'Values') }));
    const perPage = input.num(body, 'ResourcesPerPage') ?? GET_RESOURCES_PAGE;
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > GET_RESOURCES_PAGE) {
      throw new AwsError('InvalidParameterException', 'ResourcesPerPage must be between 1 and 100.', 400);
    }
    const fp = fingerprint([call.account, call.region, typeFilters, tagFilters, perPage]);
    const token = input.str(body, 'PaginationToken');
    const start = token === undefined || token === '' ? 0 : decodeToken(token, fp);
    if (start === undefined)
      throw new AwsError('PaginationTokenExpiredException', 'The pagination token is not valid.', 400);

    const matching = this.resources(call.account, call.region).filter(
      (r) =>
        Object.keys(r.tags).length > 0 &&
        (typeFilters.length === 0 || typeFilters.some((f) => f === r.type || f === r.type.split(':')[0])) &&
        tagFilters.every(
          (f) => f.key in r.tags && (f.values.length === 0 || f.values.includes(r.tags[f.key] ?? '')),
        ),
    );
    const page = matching.slice(start, start + perPage);
    return {
      body: JSON.stringify({
        // AWS ends pagination with an empty token, not a missing one.
        PaginationToken: start + perPage < matching.length ? encodeToken(start + perPage, fp) : '',
        ResourceTagMappingList: page.map((r) => ({
          ResourceARN: r.arn,
          Tags: Object.entries(r.tags).map(([Key, Value]) => ({ Key, Value })),
        })),
      }),
    };
  }

  private resources(account: string, region: string): TaggedResource[] {
    const out: TaggedResource[] = this.world
      .functions(account, region)
      .map((f) => ({ arn: f.arn, type: 'lambda:function', tags: f.tags }));
    for (const api of this.world.apis(account, region)) {
      const kind = api.kind === 'REST' ? 'restapis' : 'apis';
      out.push({ arn: api.arn, type: `apigateway:${kind}`, tags: api.tags });
      for (const stage of api.stages)
        out.push({ arn: stage.arn, type: `apigateway:${kind}/stages`, tags: stage.tags });
    }
    return out;
  }
}
