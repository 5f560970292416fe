/**
 * Best-of-N timing for A/B comparisons of engine changes on a noisy machine:
 *   npx tsx --expose-gc bench/support/repeat.ts [runs=400] [repeats=6] [workflow=linear|fan-out] [concurrency=8]
 * Prints the best (lowest) CPU and wall-clock microseconds per stage execution.
 */
import { runScenario } from "./run-scenario.js";
import { fanOutWorkflow, linearWorkflow } from "./workflows.js";

const [runsArg, repeatsArg, kind, concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg ?? 8);
const runs = Number(runsArg ?? 400);
const repeats = Number(repeatsArg ?? 6);
const workflow = kind === "fan-out" ? fanOutWorkflow(20) : linearWorkflow(10);
const gc = (globalThis as { gc?: () => void }).gc;
await runScenario(workflow, { runs: Math.min(runs, 200), concurrency });
let bestCpu = Infinity;
let bestWall = Infinity;
for (let i = 0; i < repeats; i++) {
  gc?.();
  const o = await runScenario(workflow, { runs, concurrency });
  if (o.runsByStatus.COMPLETED !== runs) throw new Error(`only ${o.runsByStatus.COMPLETED} of ${runs} runs completed`);
  bestCpu = Math.min(bestCpu, (o.cpuMs * 1000) / o.stageExecutions);
  bestWall = Math.min(bestWall, (o.elapsedMs * 1000) / o.stageExecutions);
}
console.log(`${kind ?? "linear"} x${runs}, concurrency ${concurrency}: best of ${repeats}: ${bestCpu.toFixed(1)} us CPU / stage (${Math.round(1e6 / bestCpu)}/CPU-s), ${bestWall.toFixed(1)} us wall / stage (${Math.round(1e6 / bestWall)}/s)`);
