import type {
  LeaseReapStaleResult,
  OutboxFlushResult,
  RunClaimPendingResult,
  RunReapStuckResult,
  StagePollSuspendedResult,
} from "../../kernel/commands.js";
import type { Kernel } from "../../kernel/kernel.js";

export interface MaintenanceOptions {
  workerId: string;
  /** @default 10 */
  maxClaims?: number;
  /** @default 50 */
  maxSuspendedChecks?: number;
  /** Jobs leased longer than this are handed back by the transport. @default 60000 */
  staleLeaseThresholdMs?: number;
  /** RUNNING runs untouched this long are re-driven. @default 60000 */
  stuckThresholdMs?: number;
  /** @default 1000 */
  maxOutboxEvents?: number;
  /**
   * Only flush events at least this old: set it where a stream publisher delivers events first
   * (the deployed stack), so the flush is a backstop instead of a second publisher. @default 0
   */
  outboxMinAgeMs?: number;
  /** Stop starting further steps once this much time has passed. */
  timeBudgetMs?: number;
}

export interface MaintenanceTickResult {
  claimed: RunClaimPendingResult["claimed"];
  suspended: StagePollSuspendedResult;
  staleLeases: LeaseReapStaleResult;
  stuckRuns: RunReapStuckResult;
  outbox: OutboxFlushResult;
  /** Steps skipped because the time budget ran out. */
  skipped: string[];
  /** Steps that threw; the other steps still ran. */
  errors: { step: string; error: unknown }[];
}

/** One maintenance pass: claim, poll suspended stages, reap leases, re-drive stuck runs, flush the outbox. */
export async function runMaintenance(kernel: Kernel, options: MaintenanceOptions): Promise<MaintenanceTickResult> {
  const started = Date.now();
  const result: MaintenanceTickResult = {
    claimed: [],
    suspended: { checked: 0, resumed: 0, failed: 0, resumedWorkflowRunIds: [] },
    staleLeases: { released: 0 },
    stuckRuns: { redriven: 0, failed: 0 },
    outbox: { published: 0, failed: 0, deadLettered: 0 },
    skipped: [],
    errors: [],
  };
  // Each step stands alone: one that fails (a store hiccup, a bad record) must not stop the
  // others, or a single poisoned run would halt lease reaping and re-drives for everyone.
  const step = async (name: string, run: () => Promise<void>) => {
    if (options.timeBudgetMs !== undefined && Date.now() - started >= options.timeBudgetMs) {
      result.skipped.push(name);
      return;
    }
    try {
      await run();
    } catch (error) {
      result.errors.push({ step: name, error });
    }
  };
  await step("run.claimPending", async () => {
    result.claimed = (await kernel.dispatch({ type: "run.claimPending", workerId: options.workerId, maxClaims: options.maxClaims ?? 10 })).claimed;
  });
  await step("stage.pollSuspended", async () => {
    result.suspended = await kernel.dispatch({ type: "stage.pollSuspended", maxChecks: options.maxSuspendedChecks ?? 50 });
  });
  await step("lease.reapStale", async () => {
    result.staleLeases = await kernel.dispatch({ type: "lease.reapStale", staleThresholdMs: options.staleLeaseThresholdMs ?? 60_000 });
  });
  await step("run.reapStuck", async () => {
    result.stuckRuns = await kernel.dispatch({ type: "run.reapStuck", stuckThresholdMs: options.stuckThresholdMs ?? 60_000 });
  });
  await step("outbox.flush", async () => {
    result.outbox = await kernel.dispatch({ type: "outbox.flush", maxEvents: options.maxOutboxEvents ?? 1000, minAgeMs: options.outboxMinAgeMs });
  });
  return result;
}
