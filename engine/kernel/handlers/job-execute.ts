import type { ProgressUpdate, StageLike } from "../../core/stage.js";
import { isSuspendedResult, type StageResult, type SuspendedResult } from "../../core/types.js";
import type { Workflow } from "../../core/workflow.js";
import type { JobExecuteCommand, JobExecuteResult, StageClaim } from "../commands.js";
import type { KernelDeps } from "../deps.js";
import { StageValidationError } from "../errors.js";
import type { EnqueueJobInput } from "../ports.js";
import { isBlobReference, type WorkflowRunRecord, type WorkflowStageRecord } from "../records.js";
import { measureAIUsage } from "../helpers/ai-usage.js";
import { applyEffects, type AfterCommit } from "../helpers/effects.js";
import { retryOnConflict } from "../helpers/conflict-retry.js";
import { loadStageInputs, zodIssues, type EarlierOutput } from "../helpers/load-stage-inputs.js";
import { recordEvents } from "../helpers/outbox.js";
import { startHeartbeat } from "../helpers/lease-heartbeats.js";
import { buildStageContext, createLogCollector } from "../helpers/stage-context.js";
import { completeStage, failStage, isRunActive, suspendStage, type StageFence } from "../helpers/stage-outcomes.js";
import { blobKeys, copyJsonValue, storeValue } from "../helpers/stored-values.js";
import { getWorkflowOrThrow, jobFor } from "../helpers/workflow-plan.js";

type Claim =
  /**
   * `stages`: what the stage reads of the run's stages (every record, or just the earlier
   * outputs). `handedOver`: they came from the previous stage's commit, not a read of this attempt.
   */
  | { kind: "claimed"; run: WorkflowRunRecord; stage: WorkflowStageRecord; stages: ReadonlyArray<EarlierOutput>; handedOver?: boolean }
  | { kind: "done"; result: JobExecuteResult };

const skipped = (reason: string): Claim => ({ kind: "done", result: { outcome: "skipped", ghost: true, error: reason } });

/**
 * A stage claimed by the commit of the stage before it, with the records its execution needs:
 * the run, its own record and the earlier stages' (outputs copied, so nothing the previous
 * stage's code held is shared). Valid once, and only for the kernel that made it.
 */
class HandedOverClaim implements StageClaim {
  private used = false;

  constructor(
    private readonly kernel: KernelDeps,
    private readonly run: WorkflowRunRecord,
    private readonly stage: WorkflowStageRecord,
    private readonly stages: ReadonlyArray<EarlierOutput>,
  ) {}

  get workflowRunId(): string {
    return this.stage.workflowRunId;
  }
  get stageId(): string {
    return this.stage.stageId;
  }
  get attempt(): number {
    return this.stage.attempt;
  }
  get leaseOwner(): string {
    return this.stage.leaseOwner ?? "";
  }
  get leaseExpiresAt(): Date {
    return this.stage.leaseExpiresAt ?? new Date(0);
  }

  /** The claim for this command, once; undefined when it is used, another kernel's, or names another stage. */
  take(deps: KernelDeps, command: JobExecuteCommand): Claim | undefined {
    if (this.used || deps !== this.kernel || command.workflowRunId !== this.workflowRunId || command.stageId !== this.stageId) return undefined;
    this.used = true;
    return { kind: "claimed", run: this.run, stage: this.stage, stages: this.stages, handedOver: true };
  }
}

/**
 * What the next stage reads, handed over instead of read back: the earlier completed stages'
 * outputs with this stage's as just committed (no whole records: a chain holds these until it
 * ends). Outputs are given to stage code exactly once as copies: those this attempt read itself
 * were shown to its code as they are, so they are copied here; handed-over ones were shown as
 * copies and are passed on as they are.
 */
function handOver(stages: ReadonlyArray<EarlierOutput>, committed: WorkflowStageRecord, exposed: boolean): EarlierOutput[] {
  const outputs: EarlierOutput[] = [];
  for (const record of stages) {
    if (record.status !== "COMPLETED" || record.stageId === committed.stageId) continue;
    const outputData = exposed ? copyJsonValue(record.outputData) : record.outputData;
    outputs.push({ stageId: record.stageId, status: record.status, executionGroup: record.executionGroup, outputData });
  }
  outputs.push({ stageId: committed.stageId, status: committed.status, executionGroup: committed.executionGroup, outputData: committed.outputData });
  return outputs;
}

/**
 * Phase 1: claim the stage attempt. The write sets a new attempt number (the fencing token) and
 * a lease; it only holds if nobody else claimed the stage since we read it. The run's stage
 * records read here also give the stage its input and earlier outputs (earlier groups are
 * final), so phase 2 needs no read of its own.
 */
async function claimStage(deps: KernelDeps, command: JobExecuteCommand, stageDef: StageLike, workerId: string): Promise<Claim> {
  return retryOnConflict(() =>
    deps.persistence.withTransaction(async (tx): Promise<Claim> => {
      // One round trip for both reads: they are independent, and the claim is on the hot path.
      const [run, stages] = await Promise.all([tx.getRun(command.workflowRunId), tx.getStagesByRun(command.workflowRunId)]);
      const index = stages.findIndex((s) => s.stageId === command.stageId);
      const stage = index < 0 ? undefined : stages[index]!;
      if (!isRunActive(run)) return skipped(run ? `run is ${run.status}` : "run does not exist");
      if (!stage) return skipped("stage has no record (stale job)");
      const now = deps.clock.now();
      const leaseExpired = stage.status === "RUNNING" && (stage.leaseExpiresAt?.getTime() ?? 0) <= now.getTime();
      if (stage.status !== "PENDING" && !leaseExpired) return skipped(`stage is ${stage.status}`);
      if (stage.status === "PENDING" && stage.retryAt && stage.retryAt.getTime() > now.getTime()) {
        return { kind: "done", result: { outcome: "deferred", nextPollAt: stage.retryAt } };
      }
      const claimed = await tx.updateStage(run.id, stage.stageId, {
        expectedAttempt: stage.attempt,
        expectedStatus: stage.status,
        status: "RUNNING",
        attempt: stage.attempt + 1,
        leaseOwner: workerId,
        leaseExpiresAt: new Date(now.getTime() + deps.leaseMs),
        retryAt: null,
        startedAt: stage.startedAt ?? now,
      });
      await recordEvents(
        tx,
        deps,
        run.id,
        [{ type: "stage:started", stageId: stage.stageId, stageName: stageDef.name, attempt: claimed.attempt }],
        `job.execute:${run.id}:${stage.stageId}:${claimed.attempt}`,
      );
      stages[index] = claimed;
      return { kind: "claimed", run, stage: claimed, stages };
    }),
  );
}

/**
 * An AbortController made only when the stage reads `ctx.signal`: Node's AbortController is
 * costly to create and most stages never look at it. An abort before that is remembered.
 */
class LazyAbortController {
  private controller: AbortController | undefined;
  private reason: unknown;
  aborted = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

/** Writes progress events one at a time, keeping only the newest while a write is in flight. */
function createProgressWriter(deps: KernelDeps, run: WorkflowRunRecord, stage: WorkflowStageRecord) {
  let pending: ProgressUpdate | undefined;
  // Undefined until the stage first reports progress, so a stage that never does awaits nothing.
  let chain: Promise<void> | undefined;
  let scheduled = false;
  const flush = async () => {
    scheduled = false;
    const update = pending;
    pending = undefined;
    if (!update) return;
    await retryOnConflict(() =>
      deps.persistence.withTransaction((tx) =>
        recordEvents(
          tx,
          deps,
          run.id,
          [{ type: "stage:progress", stageId: stage.stageId, progress: update.progress, message: update.message, details: update.details }],
          `job.execute:${run.id}:${stage.stageId}:${stage.attempt}`,
        ),
      ),
    ).catch(() => undefined);
  };
  return {
    report(update: ProgressUpdate) {
      pending = update;
      if (!scheduled) {
        scheduled = true;
        chain = (chain ?? Promise.resolve()).then(flush);
      }
    },
    /** The pending progress writes, or undefined when the stage never reported progress. */
    settled: (): Promise<void> | undefined => chain,
  };
}

type Execution =
  | { kind: "output"; result: StageResult<unknown>; output: unknown }
  | { kind: "suspended"; result: SuspendedResult }
  | { kind: "error"; error: unknown };

/** Phase 2: run the stage's code outside any transaction and validate what it returns. */
async function runStage(
  deps: KernelDeps,
  run: WorkflowRunRecord,
  workflow: Workflow,
  stageDef: StageLike,
  stage: WorkflowStageRecord,
  stages: ReadonlyArray<EarlierOutput>,
  jobId: string | undefined,
  logs: ReturnType<typeof createLogCollector>,
  handedOver: boolean,
): Promise<Execution> {
  const controller = new LazyAbortController();
  const stopHeartbeat = startHeartbeat(deps, stage, jobId, controller);
  const progress = createProgressWriter(deps, run, stage);
  try {
    const { stageInput, config, workflowContext, unloadedOutputs } = await loadStageInputs(deps, run, workflow, stageDef, stages, handedOver);
    const ctx = buildStageContext({
      deps,
      workflowRunId: run.id,
      stageId: stage.stageId,
      attempt: stage.attempt,
      stageInput,
      config,
      workflowContext,
      unloadedOutputs,
      resumeState: (stage.resumeData ?? undefined) as SuspendedResult["state"] | undefined,
      signal: () => controller.signal,
      log: logs.log,
      onProgress: (update) => progress.report(update),
    });
    const result = await stageDef.execute(ctx as never);
    const progressWrites = progress.settled();
    if (progressWrites) await progressWrites;
    if (isSuspendedResult(result)) {
      if (stageDef.mode !== "async-batch") throw new StageValidationError(stageDef.id, [{ path: [], message: "only async-batch stages may suspend" }]);
      return { kind: "suspended", result };
    }
    if (!result || typeof result !== "object" || !("output" in result)) {
      throw new StageValidationError(stageDef.id, [{ path: [], message: "execute() must return { output }" }]);
    }
    const parsed = stageDef.outputSchema.safeParse(result.output);
    if (!parsed.success) throw new StageValidationError(stageDef.id, zodIssues(parsed.error));
    return { kind: "output", result, output: parsed.data };
  } catch (error) {
    await progress.settled();
    return { kind: "error", error };
  } finally {
    stopHeartbeat();
  }
}

/** `job.execute`: claim (phase 1), run the stage outside any transaction (phase 2), commit under the fence (phase 3). */
export async function handleJobExecute(deps: KernelDeps, command: JobExecuteCommand): Promise<JobExecuteResult> {
  const workflow = getWorkflowOrThrow(deps, command.workflowId);
  const stageDef = workflow.getStage(command.stageId);
  if (!stageDef) return { outcome: "skipped", ghost: true, error: `stage ${command.stageId} is not in workflow ${workflow.id}` };
  const workerId = command.workerId ?? deps.workerId;

  const claim = (command.claim instanceof HandedOverClaim && command.claim.take(deps, command)) || (await claimStage(deps, command, stageDef, workerId));
  if (claim.kind === "done") return claim.result;
  const { run, stage, stages } = claim;
  const handedOver = claim.handedOver === true;
  const startedAtMs = deps.clock.now().getTime();
  const logs = createLogCollector(run.id, stage.stageId);
  const execution = await runStage(deps, run, workflow, stageDef, stage, stages, command.jobId, logs, handedOver);

  // Work that needs I/O happens before the commit transaction, which then stays short.
  let storedOutput: unknown;
  if (execution.kind === "output") {
    storedOutput = await storeValue(deps, () => blobKeys.stageOutput(run.id, stage.stageId, stage.attempt), execution.output);
    const artifacts = execution.result.artifacts;
    if (artifacts) {
      for (const [key, value] of Object.entries(artifacts)) await deps.blobStore.put(blobKeys.artifact(run.id, stage.stageId, key), value);
    }
  }
  if (logs.logs.length) await deps.persistence.createLogs(logs.logs).catch(() => undefined);
  const usage = await measureAIUsage(deps, run.id, stage.stageId);
  const fence: StageFence = { expectedStatus: "RUNNING", expectedAttempt: stage.attempt };
  const causationId = `job.execute:${run.id}:${stage.stageId}:${stage.attempt}`;

  type Committed = { result: JobExecuteResult; effects?: AfterCommit; claimed?: WorkflowStageRecord; changed?: WorkflowStageRecord };
  const committed = await retryOnConflict(() =>
    deps.persistence.withTransaction(async (tx): Promise<Committed> => {
      const [currentRun, current] = await Promise.all([tx.getRun(run.id), tx.getStage(run.id, stage.stageId)]);
      // Phase 3's fence: the run must still be active and the stage still ours.
      if (!isRunActive(currentRun) || current?.status !== "RUNNING" || current.attempt !== stage.attempt) {
        return { result: { outcome: execution.kind === "error" ? "failed" : execution.kind === "suspended" ? "suspended" : "completed", ghost: true } };
      }
      if (execution.kind === "output") {
        const now = deps.clock.now();
        const claimNextFor = command.claimNextStage ? { workerId, now, leaseExpiresAt: new Date(now.getTime() + deps.leaseMs) } : undefined;
        const settled = await completeStage(tx, deps, {
          run: currentRun,
          stage: current,
          workflow,
          stageDef,
          fence,
          usage,
          causationId,
          startedAtMs,
          storedOutput,
          customMetrics: execution.result.customMetrics,
          claimNextFor,
        });
        return { result: { outcome: "completed", output: execution.output }, effects: settled.effects, claimed: settled.claimed, changed: settled.changed };
      }
      const base = { run: currentRun, stage: current, workflow, stageDef, fence, usage, causationId, startedAtMs };
      if (execution.kind === "suspended") {
        const { pollConfig, state } = execution.result;
        const settled = await suspendStage(tx, deps, {
          ...base,
          state,
          pollInterval: pollConfig.pollInterval,
          maxWaitTime: pollConfig.maxWaitTime,
          nextPollAt: pollConfig.nextPollAt ? new Date(pollConfig.nextPollAt) : undefined,
        });
        return { result: { outcome: "suspended", nextPollAt: settled.nextPollAt }, effects: settled.effects };
      }
      const settled = await failStage(tx, deps, { ...base, error: execution.error });
      const error = execution.error instanceof Error ? execution.error.message : String(execution.error);
      return settled.retryAt
        ? { result: { outcome: "retrying", error, nextPollAt: settled.retryAt }, effects: settled.effects }
        : { result: { outcome: "failed", error }, effects: settled.effects };
    }),
  );

  if (committed.result.ghost) {
    // Our output lost; its blob (keyed by our attempt) is nobody's, so remove it.
    if (isBlobReference(storedOutput)) await deps.blobStore.delete(storedOutput.$blob).catch(() => undefined);
    return committed.result;
  }
  const effects = committed.effects;
  if (!effects) return committed.result;
  const { claimed, changed } = committed;
  const nextJob =
    claimed && changed
      ? { ...jobFor(run, { stageId: claimed.stageId, attempt: claimed.attempt - 1 }), claim: new HandedOverClaim(deps, run, claimed, handOver(stages, changed, !handedOver)) }
      : command.returnNextJob
        ? takeChainedJob(effects)
        : undefined;
  await applyEffects(deps, effects);
  return nextJob ? { ...committed.result, nextJob } : committed.result;
}

/** The one job of a one-stage group this commit started, taken out of the effects (not enqueued). */
function takeChainedJob(effects: AfterCommit): EnqueueJobInput | undefined {
  const [job] = effects.enqueue;
  if (effects.enqueue.length !== 1 || !job || job.scheduledFor) return undefined;
  effects.enqueue.length = 0;
  return job;
}
