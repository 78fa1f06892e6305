/**
 * Which AWS regions exist, according to the AWS SDK's own partition data (`partition()` of
 * @aws-sdk/core, the table the SDK resolves endpoints with, updated with every SDK release): a region
 * is known when a partition lists it by name. A region launched after this build's SDK is refused
 * until the SDK is updated, and the message says so.
 */
import { partition } from '@aws-sdk/core/client';
import { closestMatch } from '../messages/did-you-mean.js';

/** Longer text is no region name worth a suggestion (and not worth searching). */
const MAX_NAME = 40;

/** Region names look like `us-east-1`, `us-gov-west-1`, `eusc-de-east-1` (not `aws-global`). */
const REGION_SHAPE = /^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/;

export function isKnownRegion(name: string): boolean {
  if (!REGION_SHAPE.test(name)) return false;
  return (partition(name) as { description?: unknown }).description !== undefined;
}

/** Names to suggest from: every `<area>-<direction>-<n>` the SDK knows, for the areas AWS uses. */
let knownNames: string[] | undefined;
function candidates(): string[] {
  if (knownNames) return knownNames;
  const areas = [
    'us',
    'eu',
    'ap',
    'sa',
    'ca',
    'me',
    'af',
    'il',
    'mx',
    'cn',
    'us-gov',
    'us-iso',
    'us-isob',
    'us-isof',
    'eu-isoe',
    'eusc-de',
  ];
  const directions = [
    'east',
    'west',
    'north',
    'south',
    'central',
    'northeast',
    'northwest',
    'southeast',
    'southwest',
  ];
  knownNames = [];
  for (const area of areas)
    for (const direction of directions)
      for (let n = 1; n <= 9; n++) {
        const name = `${area}-${direction}-${n}`;
        if (isKnownRegion(name)) knownNames.push(name);
      }
  return knownNames;
}

/** The known region a user most likely meant (`us-east1` → `us-east-1`), when one is close. */
export function suggestRegion(name: string): string | undefined {
  if (name.length > MAX_NAME) return undefined;
  const lower = name.trim().toLowerCase();
  const hyphenated = lower.replace(/([a-z])(\d+)$/, '$1-$2');
  if (hyphenated !== name && isKnownRegion(hyphenated)) return hyphenated;
  return closestMatch(lower, candidates());
}

/** Known regions of the same area and direction (`eu-west-9` → eu-west-1, eu-west-2, eu-west-3). */
export function siblingRegions(name: string): string[] {
  if (name.length > MAX_NAME) return [];
  const prefix = /^(.*-)\d+$/.exec(name.trim().toLowerCase())?.[1];
  return prefix === undefined
    ? []
    : candidates().filter((region) => region.startsWith(prefix) && /^\d+$/.test(region.slice(prefix.length)));
}
