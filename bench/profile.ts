/** Self time of a V8 CPU profile (node:inspector Profiler.stop), by function and by area. */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileItem {
  readonly name: string;
  readonly ms: number;
  readonly pct: number;
  readonly us_per_datapoint: number;
}

export interface ProfileSummary {
  readonly datapoints: number;
  readonly busy_ms: number;
  readonly us_per_datapoint: number;
  readonly top_functions: ProfileItem[];
  readonly by_area: ProfileItem[];
}

/** `…/node_modules/@smithy/core/dist-cjs/x.js` → `@smithy/core`; `…/dist-bench/core/sink/x.js` → `core/sink/x.js`. */
function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native / builtins)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:'))
    return url.startsWith('node:internal/') ? 'node:internal/' + url.split('/')[1] : url;
  const m = /\/(core|checks|bench|test)\/(.*)$/.exec(url);
  return m ? `${m[1]}/${m[2]}` : url;
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const m = /\/((?:core|checks|bench|test)\/.*)$/.exec(url);
  return m ? m[1]! : url;
}

export function analyseProfile(profile: CpuProfile, datapoints: number, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the following delta to sample i.
    const dt = deltas[i + 1] ?? 0;
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + dt);
  }
  const fn = new Map<string, number>();
  const area = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    busy += us;
    const key = `${functionName || '(anonymous)'} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim();
    fn.set(key, (fn.get(key) ?? 0) + us);
    const a = areaOf(url, functionName);
    area.set(a, (area.get(a) ?? 0) + us);
  }
  const items = (m: Map<string, number>, n: number): ProfileItem[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({
        name,
        ms: Math.round(us / 100) / 10,
        pct: Math.round((1000 * us) / Math.max(1, busy)) / 10,
        us_per_datapoint: Math.round((100 * us) / Math.max(1, datapoints)) / 100,
      }));
  return {
    datapoints,
    busy_ms: Math.round(busy / 1000),
    us_per_datapoint: Math.round((100 * busy) / Math.max(1, datapoints)) / 100,
    top_functions: items(fn, top),
    by_area: items(area, top),
  };
}

/** A V8 sampling heap profile (node:inspector HeapProfiler.stopSampling). */
export interface SamplingHeapProfile {
  head: SamplingHeapNode;
}
interface SamplingHeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingHeapNode[];
}

/** Bytes allocated (sampled) by function, largest first, and their total. */
export function allocationsByFunction(
  profile: SamplingHeapProfile,
  top: number,
): { total: number; rows: { name: string; bytes: number }[] } {
  const byFunction = new Map<string, number>();
  let total = 0;
  const visit = (node: SamplingHeapNode): void => {
    if (node.selfSize > 0) {
      const f = node.callFrame;
      const name = `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    for (const child of node.children) visit(child);
  };
  visit(profile.head);
  const rows = [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, bytes]) => ({ name, bytes }));
  return { total, rows };
}
