/**
 * Self size of a V8 heap snapshot grouped by node type and constructor/name:
 *   BENCH_HEAP_SNAPSHOT=/tmp/bench.heapsnapshot npx tsx --expose-gc bench/in-memory.bench.ts --only=linear-200 --in-process --no-warmup
 *   npx tsx bench/support/heap-summary.ts /tmp/bench.heapsnapshot [top]
 */
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}
const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error("usage: heap-summary.ts <file.heapsnapshot> [top]");
const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const width = fields.length;
const typeAt = fields.indexOf("type");
const nameAt = fields.indexOf("name");
const sizeAt = fields.indexOf("self_size");
const groups = new Map<string, { size: number; count: number }>();
let total = 0;
for (let i = 0; i < snap.nodes.length; i += width) {
  const type = types[snap.nodes[i + typeAt]!]!;
  const name = type === "string" || type === "concatenated string" || type === "sliced string" ? "(strings)" : snap.strings[snap.nodes[i + nameAt]!]!;
  const key = `${type} ${name.slice(0, 60)}`;
  const size = snap.nodes[i + sizeAt]!;
  total += size;
  const g = groups.get(key) ?? { size: 0, count: 0 };
  g.size += size;
  g.count++;
  groups.set(key, g);
}
console.log(`total self size ${(total / 1048576).toFixed(1)} MiB`);
for (const [key, g] of [...groups].sort((a, b) => b[1].size - a[1].size).slice(0, Number(topArg ?? 30))) {
  console.log(`${(g.size / 1048576).toFixed(2).padStart(8)} MiB ${String(g.count).padStart(9)}  ${key}`);
}
