import { getHeapSnapshot } from 'node:v8';

/**
 * How many string objects of the heap hold exactly `content`. JavaScript cannot tell two equal strings
 * apart, so memory fixes that make structures share one string (instead of holding copies) are only
 * observable here. The snapshot is taken after V8's own full GC: unreachable copies are not counted.
 */
export async function countHeapStrings(content: string): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer);
  const snapshot = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const stringType = snapshot.snapshot.meta.node_types[0].indexOf('string');
  let count = 0;
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    if (
      snapshot.nodes[i + typeAt] === stringType &&
      snapshot.strings[snapshot.nodes[i + nameAt]!] === content
    )
      count++;
  }
  return count;
}
