import type { AwsAccess, AwsClientFactory } from './aws-client-factory.js';

/**
 * Runs `work` in every region of an instance at once (`all`: the regions enabled in the account) with the
 * identity's account, and returns every region's failures, sorted. `work` reports its own failures (each
 * naming its region); one that throws is reported as `<region>: <message>`.
 */
export async function inEveryRegion(
  clients: AwsClientFactory,
  access: AwsAccess,
  regions: readonly string[] | 'all',
  work: (region: string, accountId: string) => Promise<readonly string[]>,
): Promise<string[]> {
  const accountId = await clients.accountId(access);
  const list = regions === 'all' ? await clients.enabledRegions(access) : regions;
  const failures = await Promise.all(
    list.map((region) =>
      work(region, accountId).catch((error: unknown) => [
        `${region}: ${error instanceof Error ? error.message : String(error)}`,
      ]),
    ),
  );
  return failures.flat().sort();
}
