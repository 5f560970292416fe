import type { RunReapStuckCommand, RunReapStuckResult } from "../commands.js";
import type { KernelDeps } from "../deps.js";
import { redriveRun } from "./run-transition.js";

/**
 * `run.reapStuck`: RUNNING runs untouched for `stuckThresholdMs` are re-driven first (the
 * transition or enqueue a crash lost is done again); only a run nothing can move is failed.
 */
export async function handleRunReapStuck(deps: KernelDeps, command: RunReapStuckCommand): Promise<RunReapStuckResult> {
  const threshold = command.stuckThresholdMs ?? 60_000;
  const updatedBefore = new Date(deps.clock.now().getTime() - threshold);
  const runs = await deps.persistence.getRunsByStatus("RUNNING", { updatedBefore, limit: command.maxRuns ?? 100 });
  let redriven = 0;
  let failed = 0;
  for (const run of runs) {
    const result = await redriveRun(deps, run.id);
    if (result.action === "failed") failed++;
    else if (result.action !== "noop") redriven++;
  }
  return { redriven, failed };
}
