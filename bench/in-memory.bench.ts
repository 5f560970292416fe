/**
 * In-memory benchmark (`npm run bench`, i.e. `tsx --expose-gc bench/in-memory.bench.ts`).
 *
 * In-memory adapters, no-op stages, one process, through the node host:
 *   linear-200    200 runs of a 10-stage linear workflow
 *   fan-out-50     50 runs of 1 stage + a parallel group of 20 + 1 stage
 *   linear-1600  1,600 runs of the linear workflow
 *
 * Each scenario runs in a fresh child process and is timed several times on fresh adapters
 * (9 times for the 200-run and 50-run scenarios, 3 for 1,600 runs); figures are the median
 * repetition's, peak RSS that of the first repetition. The child is the TypeScript sources bundled by
 * esbuild into one JavaScript file and run by plain `node --expose-gc`, as the engine runs in
 * production (compiled), so the RSS figures do not include tsx's loader thread (~30 MiB); if
 * bundling fails, the child runs under tsx instead and the header says so. Before the timed
 * scenario the child warms up on separate adapters (5 rounds of up to 200 runs of the same workflow: V8 needs
 * about 10,000 stage executions before the figures settle), drops them and collects
 * garbage. Peak RSS is the whole process's RSS (node + zod + the engine) sampled every 5 ms
 * (the node host hands the event loop a turn at least that often) and at the end.
 *
 * Figures only: nothing is asserted; the process exits 0 unless a scenario crashes.
 *
 * Options: --only=<name>[,<name>]  --concurrency=<n> (default 8)  --no-warmup
 *   --node-flags="<flags>"  V8/Node flags for the child processes, e.g. --node-flags="--max-semi-space-size=4"
 *     (a smaller young generation: see docs/benchmarks.md for what it does to RSS and throughput)
 *   --in-process  run the scenarios in this process (for profiling), e.g.
 *     node --import tsx --expose-gc --cpu-prof --cpu-prof-dir=/tmp/prof bench/in-memory.bench.ts --only=linear-1600 --in-process
 *     npx tsx bench/support/profile-summary.ts /tmp/prof/<file>.cpuprofile
 */
import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ScenarioOutcome } from "./support/run-scenario.js";
import { measureScenario, SCENARIOS, WARMUP_ROUNDS, type ScenarioReport, type ScenarioSpec } from "./support/scenarios.js";

const TARGETS = {
  throughputAt200: 40_000,
  maxSlowdownPct: 15,
  maxRssMiB: 100,
  reference200: 8_000,
  reference1600: 1_900,
};

function parseArgs(argv: string[]) {
  const options = { only: [] as string[], concurrency: 8, warmup: true, inProcess: false, nodeFlags: [] as string[] };
  for (const arg of argv) {
    const option = arg.replace(/^--/, "");
    const eq = option.indexOf("=");
    const [key, value] = eq < 0 ? [option, undefined] : [option.slice(0, eq), option.slice(eq + 1)];
    if (key === "only" && value) options.only = value.split(",");
    else if (key === "concurrency" && value) options.concurrency = Math.max(1, Number(value));
    else if (key === "no-warmup") options.warmup = false;
    else if (key === "in-process") options.inProcess = true;
    else if (key === "node-flags" && value) options.nodeFlags = value.split(/\s+/).filter(Boolean);
  }
  return options;
}

interface ChildLauncher {
  describe: string;
  run(spec: ScenarioSpec, concurrency: number, warmup: boolean, repeats?: number): Promise<ScenarioReport>;
  dispose(): void;
}

/** Bundles the child entry with esbuild; falls back to running the TypeScript under tsx. */
async function createLauncher(nodeFlags: string[]): Promise<ChildLauncher> {
  const entry = fileURLToPath(new URL("./support/scenario-child.ts", import.meta.url));
  let script = entry;
  let execArgv = [...process.execArgv.filter((a) => a !== "--expose-gc"), "--expose-gc", ...nodeFlags];
  let describe = "child processes run the TypeScript under tsx (esbuild bundling failed; RSS includes tsx's loader)";
  let dir: string | undefined;
  try {
    const esbuild = await import("esbuild");
    dir = mkdtempSync(join(tmpdir(), "stageflow-bench-"));
    script = join(dir, "scenario-child.mjs");
    await esbuild.build({
      entryPoints: [entry],
      outfile: script,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "error",
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    execArgv = ["--expose-gc", ...nodeFlags];
    describe = "child processes run the sources bundled by esbuild under plain `node --expose-gc`";
  } catch (error) {
    console.error("[bench] esbuild bundling failed, running children under tsx:", error);
    script = entry;
  }
  return {
    describe,
    dispose: () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
    run: (spec, concurrency, warmup, repeats) =>
      new Promise((resolve, reject) => {
        const args = [spec.name, String(concurrency), warmup ? "1" : "0", ...(repeats ? [String(repeats)] : [])];
        const child = fork(script, args, {
          execArgv,
          stdio: ["ignore", "inherit", "inherit", "ipc"],
        });
        let report: ScenarioReport | undefined;
        child.on("message", (message) => (report = message as ScenarioReport));
        child.on("error", reject);
        child.on("exit", (code, signal) => {
          if (report) resolve(report);
          else reject(new Error(`scenario ${spec.name} exited with ${signal ?? code} and no report`));
        });
      }),
  };
}

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const throughput = (o: ScenarioOutcome) => (o.stageExecutions / o.elapsedMs) * 1000;
const perCpuSecond = (o: ScenarioOutcome) => (o.stageExecutions / o.cpuMs) * 1000;
const mark = (ok: boolean) => (ok ? "MET" : "NOT MET");

/**
 * `memory`: the scenario run once in a fresh process (no warm-up, nothing else in the heap): what
 * the scenario itself needs. The timed process also holds the garbage of its warm-up rounds and
 * earlier repetitions, and V8 keeps the pages it grew for them.
 */
function printReport(spec: ScenarioSpec, r: ScenarioReport, memory: ScenarioReport | undefined): void {
  const o = r.outcome;
  const perSecond = throughput(o);
  const completed = o.runsByStatus.COMPLETED ?? 0;
  const statuses = Object.entries(o.runsByStatus).map(([s, n]) => `${s} ${n}`).join(", ") || "none";
  console.log(`\n${spec.title}  [${spec.name}]`);
  console.log(`  runs completed       ${completed} / ${o.runs}${completed === o.runs ? "" : "  <-- NOT ALL RUNS COMPLETED"}  (stored: ${statuses})`);
  console.log(
    `  stage executions     ${fmt(o.stageExecutions)} / ${fmt(o.runs * o.stagesPerRun)} in ${fmt(o.elapsedMs, 1)} ms ` +
      `(CPU ${fmt(o.cpuMs)} ms, event loop busy ${fmt(o.eventLoopUtilization * 100)}%; jobs processed ${fmt(o.jobsProcessed)}, failed ${o.jobsFailed})`,
  );
  console.log(`  events published     ${fmt(o.eventsPublished)} (workflow:completed ${o.workflowCompletedEvents})${o.timedOut ? "  <-- TIMED OUT" : ""}`);
  const note =
    spec.name === "linear-200"
      ? `target >= ${fmt(TARGETS.throughputAt200)}/s: ${mark(perSecond >= TARGETS.throughputAt200)}; reference engine ~${fmt(TARGETS.reference200)}/s`
      : spec.name === "linear-1600"
        ? `reference engine ~${fmt(TARGETS.reference1600)}/s`
        : "";
  console.log(`  stage executions/s   ${fmt(perSecond)}${note ? `   (${note})` : ""}   [per CPU-second: ${fmt(perCpuSecond(o))}]`);
  const range = r.throughputs;
  console.log(`  of ${range.length} repetitions   median above; lowest ${fmt(range[0]!)}/s, highest ${fmt(range[range.length - 1]!)}/s`);
  if (memory) {
    console.log(
      `  peak RSS             ${fmt(memory.peakRssMiB, 1)} MiB in a fresh process running the scenario once   (target < ${TARGETS.maxRssMiB} MiB: ${mark(memory.peakRssMiB < TARGETS.maxRssMiB)}; ` +
        `at start ${fmt(memory.startRssMiB, 1)} MiB; heap after a full gc at the end, all records stored: ${memory.outcome.heapAtEndMiB === undefined ? "n/a" : `${fmt(memory.outcome.heapAtEndMiB, 1)} MiB`})`,
    );
  }
  console.log(
    `  peak RSS, timed      ${fmt(r.peakRssMiB, 1)} MiB in the warmed-up process (first repetition; at start ${fmt(r.startRssMiB, 1)} MiB, ` +
      `after warm-up ${fmt(r.baselineRssMiB, 1)} MiB; ${r.rssSamples} samples)`,
  );
}

/** The RSS figure a scenario is judged by: the fresh process's when there is one. */
const judgedRss = (timed: ScenarioReport, memory: ScenarioReport | undefined) => (memory ?? timed).peakRssMiB;

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const selected = options.only.length ? SCENARIOS.filter((s) => options.only.includes(s.name)) : SCENARIOS;
  const launcher = options.inProcess ? undefined : await createLauncher(options.nodeFlags);
  console.log("stageflow in-memory benchmark: in-memory adapters, no-op stages, node host in one process");
  console.log(
    `node ${process.version}, host concurrency ${options.concurrency}; ` +
      `${launcher ? `one fresh child process per scenario (${launcher.describe})` : "all scenarios in this process"}; ` +
      `${options.nodeFlags.length ? `child node flags: ${options.nodeFlags.join(" ")}; ` : ""}` +
      `${options.warmup ? `warm-up of ${WARMUP_ROUNDS} x up to 200 runs of the same workflow on separate adapters before the timed repetitions; peak RSS also from a fresh process running the scenario once` : "no warm-up"}`,
  );
  const reports = new Map<string, ScenarioReport>();
  const memoryReports = new Map<string, ScenarioReport>();
  try {
    for (const spec of selected) {
      const memory = launcher ? await launcher.run(spec, options.concurrency, false, 1) : undefined;
      const report = launcher
        ? await launcher.run(spec, options.concurrency, options.warmup)
        : await measureScenario(spec, options.concurrency, options.warmup);
      reports.set(spec.name, report);
      if (memory) memoryReports.set(spec.name, memory);
      printReport(spec, report, memory);
    }
  } finally {
    launcher?.dispose();
  }

  const small = reports.get("linear-200");
  const large = reports.get("linear-1600");
  console.log("\nSummary");
  if (small && large) {
    const slowdown = (throughput(small.outcome) / throughput(large.outcome) - 1) * 100;
    const cpuSlowdown = (perCpuSecond(small.outcome) / perCpuSecond(large.outcome) - 1) * 100;
    console.log(
      `  per-stage slowdown, 1,600 vs 200 runs: ${fmt(slowdown, 1)}% wall clock, ${fmt(cpuSlowdown, 1)}% CPU time   ` +
        `(target <= ${TARGETS.maxSlowdownPct}%: ${mark(slowdown <= TARGETS.maxSlowdownPct)}; reference engine ~${fmt((TARGETS.reference200 / TARGETS.reference1600 - 1) * 100)}%)`,
    );
  }
  if (reports.size) {
    const peak = Math.max(...[...reports].map(([name, r]) => judgedRss(r, memoryReports.get(name))));
    console.log(
      `  highest peak RSS: ${fmt(peak, 1)} MiB${memoryReports.size ? " (fresh process running the scenario once)" : ""}   (target < ${TARGETS.maxRssMiB} MiB: ${mark(peak < TARGETS.maxRssMiB)})`,
    );
    const incomplete = [...reports.values()].filter((r) => (r.outcome.runsByStatus.COMPLETED ?? 0) !== r.outcome.runs);
    console.log(`  runs completed: ${incomplete.length === 0 ? "every run of every scenario" : `NOT ALL in ${incomplete.map((r) => r.name).join(", ")}`}`);
  }
  console.log(`  machine load average (1 min) at the end: ${(await import("node:os")).loadavg()[0]!.toFixed(2)} — figures are noisy on a busy machine`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
