/**
 * Prints the hottest functions of a V8 CPU profile (self time, and inclusive time for
 * project functions).
 *
 *   node --import tsx --expose-gc --cpu-prof --cpu-prof-dir=/tmp/prof bench/in-memory.bench.ts --only=linear-1600 --in-process
 *   npx tsx bench/support/profile-summary.ts /tmp/prof/<file>.cpuprofile [top]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error("usage: profile-summary.ts <file.cpuprofile> [top]");
const top = Number(topArg ?? 40);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const selfTime = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const label = (n: ProfileNode) => {
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/(engine|bench|node_modules)\//, "$1/");
  return `${n.callFrame.functionName || "(anonymous)"} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ""}`.trim();
};

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
for (const [id, time] of selfTime) {
  total += time;
  const node = byId.get(id)!;
  self.set(label(node), (self.get(label(node)) ?? 0) + time);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + time);
  }
}
const show = (title: string, map: Map<string, number>, filter: (l: string) => boolean = () => true) => {
  console.log(`\n${title}`);
  for (const [l, t] of [...map].filter(([l]) => filter(l)).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(t / 1000).toFixed(1).padStart(9)} ms ${((t / total) * 100).toFixed(1).padStart(5)}%  ${l}`);
  }
};
console.log(`total sampled ${(total / 1000).toFixed(0)} ms`);
show("self time", self);
show("inclusive time (engine/ and bench/ only)", inclusive, (l) => /engine\/|bench\/|bench-bundle/.test(l));
