import type { LogGroupTarget } from '../../core/cloudwatch-logs/log-group-target.js';
import type { LogGroupCandidate, RegionContext } from '../../core/cloudwatch/integration.js';
import type { ApiGatewayInventory, ApiInfo } from './api-gateway-inventory.js';

const tagPairs = (tags: Readonly<Record<string, string>> | undefined): string[] =>
  Object.entries(tags ?? {}).map(([k, v]) => (v === '' ? k : `${k}:${v}`));

/**
 * The access-log groups of a region's API stages (`collect_logs`), labelled as the Datadog Forwarder
 * labels them: `ddsource:apigateway`, `host` the log group, `service` the API name, tags `apiname`
 * (REST) or `apiid` (HTTP, WebSocket), `stage`, `aws_account`, `region` and the stage's AWS tags. A JSON
 * access log line (the format the integration's documentation gives) becomes the record's attributes.
 * A group in another region than the stage's is left out (the source reads one region at a time).
 */
export function apiGatewayLogGroups(
  inventory: ApiGatewayInventory,
  context: RegionContext,
  awsTags: ReadonlyMap<string, Readonly<Record<string, string>>>,
): LogGroupCandidate[] {
  const apis: ApiInfo[] = [...[...inventory.restByName.values()].flat(), ...inventory.v2ById.values()];
  const out = new Map<string, LogGroupCandidate>();
  for (const api of apis) {
    for (const log of api.accessLogs ?? []) {
      if (log.region !== context.region || out.has(log.logGroup)) continue;
      const stageTags = { ...api.tags, ...awsTags.get(`${api.arn}/stages/${log.stage}`) };
      const target: LogGroupTarget = {
        region: context.region,
        accountId: log.accountId,
        logGroupName: log.logGroup,
        ddsource: 'apigateway',
        service: api.name,
        host: log.logGroup,
        tags: [
          api.protocol === 'REST' ? `apiname:${api.name}` : `apiid:${api.id}`,
          `stage:${log.stage}`,
          `aws_account:${log.accountId}`,
          `region:${context.region}`,
          ...tagPairs(stageTags),
        ],
        attributesOf: jsonAccessLogAttributes,
      };
      out.set(log.logGroup, { target, resourceName: api.name, awsTags: stageTags });
    }
  }
  return [...out.values()];
}

/** A JSON access log line's fields as attributes; a line in another format adds none. */
export function jsonAccessLogAttributes(message: string): Record<string, unknown> | undefined {
  if (!message.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(message);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
