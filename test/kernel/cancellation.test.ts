import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineAsyncBatchStage, defineStage, RunNotFoundError, WorkflowBuilder } from "../../engine/index.js";
import { createHarness, flushAll } from "../support/kernel-harness.js";
import { createGate, until } from "../support/gate.js";

const state = { batchId: "batch-1", submittedAt: "2030-01-01T00:00:00.000Z", pollInterval: 1000, maxWaitTime: 600_000 };

function batchStage() {
  const checks = { count: 0 };
  const stage = defineAsyncBatchStage({
    id: "batch",
    name: "Batch",
    schemas: { input: z.unknown(), output: z.object({ done: z.boolean() }), config: z.object({}) },
    async execute() {
      return { suspended: true, state, pollConfig: { pollInterval: 1000, maxWaitTime: 600_000 } };
    },
    async checkCompletion() {
      checks.count++;
      return { ready: true, output: { done: true } };
    },
  });
  return { stage, checks };
}

function retryingStage() {
  const calls = { count: 0 };
  const stage = defineStage({
    id: "flaky",
    name: "Flaky",
    retry: { maxAttempts: 3, initialDelayMs: 10_000 },
    schemas: { input: z.unknown(), output: z.object({}), config: z.object({}) },
    async execute() {
      calls.count++;
      throw new Error("try again later");
    },
  });
  return { stage, calls };
}

function pendingStage(id: string) {
  const calls = { count: 0 };
  const stage = defineStage({
    id,
    name: id,
    schemas: { input: z.unknown(), output: z.object({}), config: z.object({}) },
    async execute() {
      calls.count++;
      return { output: {} };
    },
  });
  return { stage, calls };
}

describe("run.cancel", () => {
  it("cascades to every non-terminal stage (a suspended one loses its wake-up), cancels queued jobs and emits workflow:cancelled", async () => {
    const batch = batchStage();
    const flaky = retryingStage();
    const waiting = pendingStage("waiting");
    const later = pendingStage("later");
    const done = pendingStage("done");
    const workflow = new WorkflowBuilder("cancel", "Cancel", "", z.object({}), z.unknown())
      .pipe(done.stage)
      .parallel([batch.stage, flaky.stage, waiting.stage])
      .pipe(later.stage)
      .build();
    const h = createHarness([workflow]);
    const runId = await h.start("cancel", {});
    await h.runNextJob(); // done
    await h.runNextJob(); // batch suspends
    await h.runNextJob(); // flaky fails, retry scheduled
    expect(await h.persistence.getStage(runId, "batch")).toMatchObject({ status: "SUSPENDED" });
    expect((await h.persistence.getStage(runId, "batch"))?.nextPollAt).not.toBeNull();
    expect((await h.persistence.getStage(runId, "flaky"))?.retryAt).not.toBeNull();
    expect(h.queue.size).toBe(2); // waiting's job and flaky's scheduled retry

    expect(await h.kernel.dispatch({ type: "run.cancel", workflowRunId: runId, reason: "user asked" })).toEqual({ cancelled: true });

    const run = await h.persistence.getRun(runId);
    expect(run).toMatchObject({ status: "CANCELLED", errorMessage: "user asked" });
    const stages = Object.fromEntries((await h.persistence.getStagesByRun(runId)).map((s) => [s.stageId, s]));
    expect(stages.done?.status).toBe("COMPLETED");
    for (const id of ["batch", "flaky", "waiting"]) {
      expect(stages[id], id).toMatchObject({ status: "CANCELLED", nextPollAt: null, retryAt: null, leaseOwner: null });
    }
    expect(await h.queue.getJobsByWorkflowRun(runId)).toEqual([]);
    expect(await h.persistence.getSuspendedStagesDue(new Date(8.64e15), 10)).toEqual([]);

    await h.clock.tick(3_600_000);
    await h.drain();
    expect(await h.kernel.dispatch({ type: "stage.pollSuspended" })).toMatchObject({ checked: 0 });
    expect(batch.checks.count).toBe(0);
    expect(flaky.calls.count).toBe(1);
    expect(waiting.calls.count).toBe(0);
    expect(later.calls.count).toBe(0);
    await flushAll(h);
    expect(h.sink.forRun(runId).at(-1)).toMatchObject({ type: "workflow:cancelled", reason: "user asked" });
  });

  it("skips a suspended stage's scheduled wake-up after the run was cancelled", async () => {
    const batch = batchStage();
    const workflow = new WorkflowBuilder("cancel-poll", "Cancel poll", "", z.object({}), z.unknown()).pipe(batch.stage).build();
    const h = createHarness([workflow]);
    const runId = await h.start("cancel-poll", {});
    await h.drain();
    await h.kernel.dispatch({ type: "run.cancel", workflowRunId: runId });
    await h.clock.tick(5000);
    const woken = await h.kernel.dispatch({ type: "stage.pollSuspended", workflowRunId: runId, stageId: "batch" });
    expect(woken).toMatchObject({ checked: 0, resumed: 0 });
    expect(batch.checks.count).toBe(0);
    expect(h.scheduler.cancelled).toEqual([{ commandType: "stage.pollSuspended", correlationId: runId }]);
  });

  it("discards the result of a stage that was executing when the run was cancelled: ghost, and ctx.signal aborts", async () => {
    const gate = createGate();
    let signal: AbortSignal | undefined;
    let sawAbort = false;
    const slow = defineStage({
      id: "slow",
      name: "Slow",
      schemas: { input: z.unknown(), output: z.object({ finished: z.boolean() }), config: z.object({}) },
      async execute(ctx) {
        signal = ctx.signal;
        await Promise.race([gate.promise, new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()))]);
        sawAbort = ctx.signal.aborted;
        return { output: { finished: true } };
      },
    });
    const next = pendingStage("next");
    const workflow = new WorkflowBuilder("cancel-mid", "Cancel mid", "", z.object({}), z.unknown()).pipe(slow).pipe(next.stage).build();
    const h = createHarness([workflow], { leaseMs: 3000 });
    const runId = await h.start("cancel-mid", {});
    const job = h.runNextJob();
    await until(() => signal !== undefined);

    await h.kernel.dispatch({ type: "run.cancel", workflowRunId: runId });
    expect(signal?.aborted).toBe(false);
    await h.clock.tick(1000); // the next heartbeat finds the lease gone
    const result = await job;
    expect(sawAbort).toBe(true);
    expect(result).toMatchObject({ outcome: "completed", ghost: true });
    expect(await h.persistence.getStage(runId, "slow")).toMatchObject({ status: "CANCELLED", outputData: null });
    expect((await h.persistence.getRun(runId))?.status).toBe("CANCELLED");
    await h.drain();
    expect(next.calls.count).toBe(0);
    await flushAll(h);
    expect(h.sink.getByType("stage:completed")).toEqual([]);
  });

  it("returns ghost for a job of a cancelled run without running it", async () => {
    const only = pendingStage("only");
    const workflow = new WorkflowBuilder("cancel-early", "Cancel early", "", z.object({}), z.unknown()).pipe(only.stage).build();
    const h = createHarness([workflow]);
    const runId = await h.start("cancel-early", {});
    await h.kernel.dispatch({ type: "run.cancel", workflowRunId: runId });
    const late = await h.kernel.dispatch({ type: "job.execute", workflowRunId: runId, workflowId: "cancel-early", stageId: "only" });
    expect(late).toMatchObject({ outcome: "skipped", ghost: true });
    expect(only.calls.count).toBe(0);
  });

  it("does nothing to a run that already ended, and refuses an unknown run", async () => {
    const only = pendingStage("only");
    const workflow = new WorkflowBuilder("cancel-done", "Cancel done", "", z.object({}), z.unknown()).pipe(only.stage).build();
    const h = createHarness([workflow]);
    const runId = await h.start("cancel-done", {});
    await h.drain();
    expect(await h.kernel.dispatch({ type: "run.cancel", workflowRunId: runId })).toEqual({ cancelled: false });
    expect((await h.persistence.getRun(runId))?.status).toBe("COMPLETED");
    await expect(h.kernel.dispatch({ type: "run.cancel", workflowRunId: "nope" })).rejects.toThrow(RunNotFoundError);
  });
});
