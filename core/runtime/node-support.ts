import { setFlagsFromString } from 'node:v8';

/**
 * Which Node versions dogwatch runs on, and the AWS SDK's own notice about them.
 *
 * dogwatch's code and tests target Node 20 (package.json engines); the container image runs Node 24 LTS.
 * The AWS SDK for JavaScript v3 announces that its releases after the first week of January 2027 require
 * Node >= 22; on older Node it prints a 7-line `NodeVersionSupportWarning` (process.emitWarning) the first
 * time a client is created, which lands in the middle of whatever dogwatch is printing. dogwatch turns
 * that off and says the same once, in one line, where it chooses to.
 */

/** The Node major the AWS SDK for JavaScript v3 requires in releases after the first week of January 2027. */
export const AWS_SDK_MIN_NODE_MAJOR = 22;
/** The SDK's documented switch for its warning. */
export const SDK_WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * Silences the SDK's own multi-line warning (call before the first SDK client is created) and returns
 * dogwatch's one-line notice instead; undefined on Node >= 22, or when the user set the switch already.
 */
export function takeOverSdkNodeWarning(
  env: NodeJS.ProcessEnv = process.env,
  nodeVersion: string = process.version,
): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(nodeVersion)?.[1] ?? NaN);
  if (!(major < AWS_SDK_MIN_NODE_MAJOR) || env[SDK_WARNING_SWITCH] !== undefined) return undefined;
  env[SDK_WARNING_SWITCH] = 'true';
  return (
    `Node ${nodeVersion}: supported by dogwatch; AWS SDK releases after early January 2027 need ` +
    `Node >= ${AWS_SDK_MIN_NODE_MAJOR} (the dogwatch container runs Node 24)`
  );
}

/**
 * V8 lets its heap grow to up to 4× what survived the last full collection before it collects again
 * (on a machine with a few GB or more), so a collector with a large, steady live heap sits anywhere
 * between 1× and 4× of it, and RSS follows: a sawtooth as tall as the live heap is large. At 1.5× the
 * cost of the extra collections is within the run-to-run noise of CPU, while peak and mean RSS drop
 * (BENCHMARKS.md, "V8 heap growth").
 */
export const HEAP_GROWING_PERCENT = 50;

/**
 * Bounds V8's heap growth to HEAP_GROWING_PERCENT, unless Node was started with a
 * `--heap-growing-percent` of the user's own. V8 reads the flag at each full collection, so setting
 * it at start applies to the whole process. Returns whether it set it.
 */
export function boundHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent(=|$)/.test(arg))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
