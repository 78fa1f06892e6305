/** AWS Account API (REST-JSON): ListRegions, which dogwatch calls for `regions: all`. */
import { type Call, type HandlerResult, input } from './call.js';
import { AwsError, parseJsonBody } from './wire.js';
import type { World } from './world.js';

/** Regions the world knows nothing about still exist: opted out, so filters have something to drop. */
const OPTED_OUT_REGIONS = ['af-south-1', 'me-south-1'];

export class AccountService {
  constructor(private readonly world: World) {}

  handle(call: Call): HandlerResult {
    if (call.operation !== 'ListRegions') {
      throw new AwsError(
        'ValidationException',
        `Operation ${call.operation} is not supported by the emulator`,
        400,
      );
    }
    const body = parseJsonBody(call.body);
    const wanted = input.strings(body, 'RegionOptStatusContains');
    const max = Math.min(Math.max(Number(input.num(body, 'MaxResults') ?? 50), 1), 50);
    const start = Number(input.str(body, 'NextToken') ?? '0');
    if (!Number.isInteger(start) || start < 0)
      throw new AwsError('ValidationException', 'Invalid NextToken.', 400);
    const enabled = [
      ...new Set(
        this.world
          .locations()
          .filter((l) => l.account === call.account)
          .map((l) => l.region),
      ),
    ].sort();
    const all = [
      ...enabled.map((RegionName) => ({ RegionName, RegionOptStatus: 'ENABLED_BY_DEFAULT' })),
      ...OPTED_OUT_REGIONS.map((RegionName) => ({ RegionName, RegionOptStatus: 'DISABLED' })),
    ].filter((r) => wanted.length === 0 || wanted.includes(r.RegionOptStatus));
    const page = all.slice(start, start + max);
    return {
      body: JSON.stringify({
        Regions: page,
        ...(start + max < all.length ? { NextToken: String(start + max) } : {}),
      }),
    };
  }
}
