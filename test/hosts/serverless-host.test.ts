import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineAsyncBatchStage, defineStage, WorkflowBuilder } from "../../engine/index.js";
import { createServerlessHost } from "../../engine/hosts/serverless/index.js";
import { createHarness } from "../support/kernel-harness.js";

const ok = defineStage({
  id: "ok",
  name: "Ok",
  schemas: { input: z.object({ fail: z.boolean() }), output: z.object({ done: z.boolean() }), config: z.object({}) },
  retry: { maxAttempts: 1 },
  async execute(ctx) {
    if (ctx.input.fail) throw new Error("asked to fail");
    return { output: { done: true } };
  },
});
const workflow = new WorkflowBuilder("svl", "Serverless", "", z.object({ fail: z.boolean() }), z.unknown()).pipe(ok).build();

const batch = defineAsyncBatchStage({
  id: "batch",
  name: "Batch",
  schemas: { input: z.unknown(), output: z.object({ n: z.number() }), config: z.object({}) },
  async execute() {
    return {
      suspended: true,
      state: { batchId: "b", submittedAt: "2030-01-01T00:00:00.000Z", pollInterval: 1000, maxWaitTime: 60_000 },
      pollConfig: { pollInterval: 1000, maxWaitTime: 60_000 },
    };
  },
  checkCompletion: async () => ({ ready: true, output: { n: 1 } }),
});
const batchWorkflow = new WorkflowBuilder("svl-batch", "Serverless batch", "", z.object({}), z.unknown()).pipe(batch).build();

function setup() {
  const h = createHarness([workflow, batchWorkflow]);
  const host = createServerlessHost({ kernel: h.kernel, jobTransport: h.queue, workerId: "lambda-1" });
  return { h, host };
}

describe("serverless host", () => {
  it("handleJob executes one delivered job and reports its outcome", async () => {
    const { h, host } = setup();
    const runId = await h.start("svl", { fail: false });
    const job = await h.queue.dequeue("lambda-1");
    expect(await host.handleJob(job!)).toEqual({ outcome: "completed", error: undefined, ghost: undefined, nextPollAt: undefined });
    expect((await h.persistence.getRun(runId))?.status).toBe("COMPLETED");
  });

  it("handleJob reports ghost for a job of a cancelled run, so the caller acknowledges without retrying", async () => {
    const { h, host } = setup();
    const runId = await h.start("svl", { fail: false });
    await h.kernel.dispatch({ type: "run.cancel", workflowRunId: runId });
    const result = await host.handleJob({ workflowRunId: runId, workflowId: "svl", stageId: "ok" });
    expect(result).toMatchObject({ outcome: "skipped", ghost: true });
  });

  it("handleJob reports a suspension with its next check", async () => {
    const { h, host } = setup();
    await h.start("svl-batch", {});
    const job = await h.queue.dequeue("lambda-1");
    const result = await host.handleJob(job!);
    expect(result.outcome).toBe("suspended");
    expect(result.nextPollAt).toEqual(new Date(h.clock.now().getTime() + 1000));
  });

  it("processAvailableJobs works through the queue up to maxJobs and counts successes and failures", async () => {
    const { h, host } = setup();
    await h.start("svl", { fail: false });
    await h.start("svl", { fail: true });
    await h.start("svl", { fail: false });
    expect(await host.processAvailableJobs({ maxJobs: 2 })).toEqual({ processed: 2, succeeded: 1, failed: 1 });
    expect(await host.processAvailableJobs()).toEqual({ processed: 1, succeeded: 1, failed: 0 });
    expect(await host.processAvailableJobs()).toEqual({ processed: 0, succeeded: 0, failed: 0 });
    expect(h.queue.size).toBe(0);
  });

  it("runMaintenanceTick polls due suspended stages, re-drives stuck runs and flushes the outbox", async () => {
    const { h, host } = setup();
    const suspended = await h.start("svl-batch", {});
    await h.drain();
    const stuck = await h.start("svl", { fail: false });
    await h.queue.cancelByRun(stuck);
    await h.clock.tick(60_001);

    const result = await host.runMaintenanceTick();
    expect(result.claimed).toEqual([]);
    expect(result.suspended).toEqual({ checked: 1, resumed: 1, failed: 0, resumedWorkflowRunIds: [suspended] });
    expect(result.stuckRuns).toEqual({ redriven: 1, failed: 0 });
    expect(result.outbox.published).toBeGreaterThan(0);
    expect(result.skipped).toEqual([]);
    expect((await h.persistence.getRun(suspended))?.status).toBe("COMPLETED");
    await host.processAvailableJobs();
    expect((await h.persistence.getRun(stuck))?.status).toBe("COMPLETED");
  });

  it("runMaintenanceTick skips the steps its time budget does not cover", async () => {
    const { host } = setup();
    const result = await host.runMaintenanceTick({ timeBudgetMs: 0 });
    expect(result.skipped).toEqual(["run.claimPending", "stage.pollSuspended", "lease.reapStale", "run.reapStuck", "outbox.flush"]);
  });
});
