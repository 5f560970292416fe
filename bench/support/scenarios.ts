import type { Workflow } from "../../engine/core/workflow.js";
import { runScenario, type ScenarioOutcome } from "./run-scenario.js";
import { fanOutWorkflow, linearWorkflow } from "./workflows.js";

export interface ScenarioSpec {
  name: string;
  title: string;
  runs: number;
  workflow: () => Workflow;
  /** Timed repetitions (fresh adapters each); the report is the median one. */
  repeats: number;
}

export const SCENARIOS: ScenarioSpec[] = [
  { name: "linear-200", title: "200 runs x 10-stage linear", runs: 200, workflow: () => linearWorkflow(10), repeats: 9 },
  { name: "fan-out-50", title: "50 runs x (1 + parallel 20 + 1)", runs: 50, workflow: () => fanOutWorkflow(20), repeats: 9 },
  { name: "linear-1600", title: "1,600 runs x 10-stage linear", runs: 1_600, workflow: () => linearWorkflow(10), repeats: 3 },
];

export interface ScenarioReport {
  name: string;
  /** The median repetition by stage executions per second. */
  outcome: ScenarioOutcome;
  /** Stage executions per second of every repetition, lowest first. */
  throughputs: number[];
  /** Runs per warm-up round (WARMUP_ROUNDS rounds, each on fresh adapters). */
  warmupRuns: number;
  /** RSS when the child started the scenario, before the warm-up. */
  startRssMiB: number;
  baselineRssMiB: number;
  peakRssMiB: number;
  rssSamples: number;
  endHeapUsedMiB: number;
}

const MiB = 1024 * 1024;
/** Rounds of warm-up: per-stage cost keeps falling for about 10,000 stage executions (JIT tiers, heap sizing). */
export const WARMUP_ROUNDS = 5;

/**
 * Runs one scenario in this process: an optional warm-up on separate adapters, then the timed
 * scenario `spec.repeats` times on fresh adapters, with RSS sampled every 5 ms and at the end of
 * the first repetition (later ones start on pages V8 kept). No full GC is forced before or
 * between the timed runs: right after one, V8 runs the next ~1,000 stages 30-40 % slower
 * (measured), which a worker under steady load never sees. The heap is measured after a full GC
 * at the end of the last repetition, with its records still stored.
 */
export async function measureScenario(spec: ScenarioSpec, concurrency: number, warmup: boolean, repeats = spec.repeats): Promise<ScenarioReport> {
  const startRss = process.memoryUsage.rss();
  const workflow = spec.workflow();
  const warmupRuns = warmup ? Math.min(200, spec.runs) : 0;
  for (let round = 0; warmupRuns && round < WARMUP_ROUNDS; round++) {
    await runScenario(workflow, { runs: warmupRuns, concurrency, timeoutMs: 60_000, measureHeap: false });
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  let samples = 0;
  // Peak RSS of the first repetition: later ones start on the pages V8 kept from earlier ones.
  let measuringPeak = true;
  const sample = () => {
    if (!measuringPeak) return;
    samples++;
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  };
  // One 2,000-stage window lasts about 0.1 s, so a single one says more about the machine's
  // neighbours than about the engine: repeat it and report the median.
  const outcomes: ScenarioOutcome[] = [];
  for (let i = 0; i < repeats; i++) {
    const last = i === repeats - 1;
    outcomes.push(await runScenario(workflow, { runs: spec.runs, concurrency, sample, measureHeap: last }));
    sample();
    measuringPeak = false;
  }
  const rate = (o: ScenarioOutcome) => o.stageExecutions / o.elapsedMs;
  const heapAtEndMiB = outcomes[outcomes.length - 1]!.heapAtEndMiB;
  outcomes.sort((a, b) => rate(a) - rate(b));
  const outcome = { ...outcomes[Math.floor(outcomes.length / 2)]!, heapAtEndMiB };
  return {
    name: spec.name,
    outcome,
    throughputs: outcomes.map((o) => rate(o) * 1000),
    warmupRuns,
    startRssMiB: startRss / MiB,
    baselineRssMiB: baseline / MiB,
    peakRssMiB: peak / MiB,
    rssSamples: samples,
    endHeapUsedMiB: process.memoryUsage().heapUsed / MiB,
  };
}
