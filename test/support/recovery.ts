import type { Status } from "../../engine/core/types.js";
import type { Harness } from "./kernel-harness.js";

const SETTLED: ReadonlySet<Status> = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

/** Runs queued jobs like `drain`, but a job whose execution throws (a simulated crash) is left leased, as a dead worker would leave it. */
export async function drainThroughCrashes(h: Harness, maxJobs = 10_000): Promise<number> {
  let crashes = 0;
  for (let i = 0; i < maxJobs; i++) {
    try {
      if (!(await h.runNextJob())) break;
    } catch {
      crashes++;
    }
  }
  return crashes;
}

export async function runStatuses(h: Harness, runIds: readonly string[]): Promise<Status[]> {
  return Promise.all(runIds.map(async (id) => (await h.persistence.getRun(id))?.status ?? "PENDING"));
}

/**
 * Drives runs to the end the way the maintenance tick would after a crash: execute what is
 * queued, let time pass beyond leases, reap stale leases, re-drive stuck runs, poll suspended
 * stages. Returns after every run is COMPLETED, FAILED or CANCELLED.
 */
export async function runUntilSettled(
  h: Harness,
  runIds: readonly string[],
  options: { stepMs?: number; maxRounds?: number } = {},
): Promise<Status[]> {
  const stepMs = options.stepMs ?? h.kernel.config.leaseMs + 1;
  for (let round = 0; round < (options.maxRounds ?? 50); round++) {
    await drainThroughCrashes(h);
    const statuses = await runStatuses(h, runIds);
    if (statuses.every((s) => SETTLED.has(s))) return statuses;
    await h.clock.tick(stepMs);
    const maintenance = [
      () => h.kernel.dispatch({ type: "lease.reapStale", staleThresholdMs: h.kernel.config.leaseMs }),
      () => h.kernel.dispatch({ type: "stage.pollSuspended" }),
      () => h.kernel.dispatch({ type: "run.reapStuck", stuckThresholdMs: stepMs }),
    ];
    // A crash may hit maintenance too; the next round tries again.
    for (const step of maintenance) await step().catch(() => undefined);
  }
  return runStatuses(h, runIds);
}
