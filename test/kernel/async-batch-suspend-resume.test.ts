import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineAsyncBatchStage, defineStage, WorkflowBuilder, type CompletionCheckResult, type SuspendedState } from "../../engine/index.js";
import { createHarness, flushAll } from "../support/kernel-harness.js";

const POLL_MS = 1000;
const MAX_WAIT_MS = 10_000;
const Output = z.object({ items: z.array(z.string()) });

function batchWorkflow(check: () => CompletionCheckResult<z.infer<typeof Output>>) {
  const executions: (SuspendedState | undefined)[] = [];
  const checks: SuspendedState[] = [];
  const batch = defineAsyncBatchStage({
    id: "batch",
    name: "Batch",
    schemas: { input: z.object({ prompts: z.array(z.string()) }), output: Output, config: z.object({}) },
    async execute(ctx) {
      executions.push(ctx.resumeState);
      if (ctx.resumeState) return { output: { items: [`resumed:${ctx.resumeState.batchId}`] } };
      return {
        suspended: true,
        state: { batchId: "batch-1", submittedAt: "2030-01-01T00:00:00.000Z", pollInterval: POLL_MS, maxWaitTime: MAX_WAIT_MS, metadata: { n: ctx.input.prompts.length } },
        pollConfig: { pollInterval: POLL_MS, maxWaitTime: MAX_WAIT_MS },
      };
    },
    async checkCompletion(state) {
      checks.push(state);
      return check();
    },
  });
  const after = defineStage({
    id: "after",
    name: "After",
    schemas: { input: Output, output: z.object({ count: z.number() }), config: z.object({}) },
    execute: async (ctx) => ({ output: { count: ctx.input.items.length } }),
  });
  const workflow = new WorkflowBuilder("batchy", "Batchy", "", z.object({ prompts: z.array(z.string()) }), z.unknown()).pipe(batch).pipe(after).build();
  return { workflow, executions, checks };
}

describe("async-batch stages", () => {
  it("suspend with their state and a wake-up; the run is SUSPENDED while all its active stages are", async () => {
    const { workflow } = batchWorkflow(() => ({ ready: false }));
    const h = createHarness([workflow]);
    const runId = await h.start("batchy", { prompts: ["a", "b"] });
    const [result] = await h.drain();
    const t0 = h.clock.now().getTime();
    expect(result).toMatchObject({ outcome: "suspended", nextPollAt: new Date(t0 + POLL_MS) });
    expect(await h.persistence.getStage(runId, "batch")).toMatchObject({
      status: "SUSPENDED",
      suspendedState: expect.objectContaining({ batchId: "batch-1", metadata: { n: 2 } }),
      nextPollAt: new Date(t0 + POLL_MS),
      maxWaitUntil: new Date(t0 + MAX_WAIT_MS),
      leaseOwner: null,
    });
    expect((await h.persistence.getRun(runId))?.status).toBe("SUSPENDED");
    expect(h.scheduler.scheduled).toEqual([
      { commandType: "stage.pollSuspended", payload: { workflowRunId: runId, stageId: "batch" }, runAt: new Date(t0 + POLL_MS) },
    ]);
    await flushAll(h);
    expect(h.sink.forRun(runId).map((e) => e.type)).toEqual([
      "workflow:created",
      "workflow:started",
      "stage:started",
      "stage:suspended",
      "workflow:suspended",
    ]);
  });

  it("are checked only when due, and a not-ready check reschedules the next one", async () => {
    const { workflow, checks } = batchWorkflow(() => ({ ready: false, nextCheckIn: 2500 }));
    const h = createHarness([workflow]);
    const runId = await h.start("batchy", { prompts: ["a"] });
    await h.drain();
    expect(await h.kernel.dispatch({ type: "stage.pollSuspended" })).toMatchObject({ checked: 0 });
    await h.clock.tick(POLL_MS);
    expect(await h.kernel.dispatch({ type: "stage.pollSuspended" })).toEqual({ checked: 1, resumed: 0, failed: 0, resumedWorkflowRunIds: [] });
    expect(checks).toHaveLength(1);
    const stage = await h.persistence.getStage(runId, "batch");
    expect(stage?.status).toBe("SUSPENDED");
    expect(stage?.nextPollAt?.getTime()).toBeGreaterThanOrEqual(h.clock.now().getTime() + 2500);
    expect(h.scheduler.scheduled.at(-1)?.runAt).toEqual(stage?.nextPollAt);
    await h.clock.tick(1000);
    await h.kernel.dispatch({ type: "stage.pollSuspended" });
    expect(checks).toHaveLength(1);
    expect((await h.persistence.getRun(runId))?.status).toBe("SUSPENDED");
  });

  it("complete with the output checkCompletion returns, and the run resumes into the next stage", async () => {
    const { workflow, executions } = batchWorkflow(() => ({ ready: true, output: { items: ["x", "y", "z"] } }));
    const h = createHarness([workflow]);
    const runId = await h.start("batchy", { prompts: ["a"] });
    await h.drain();
    await h.clock.tick(POLL_MS);
    expect(await h.kernel.dispatch({ type: "stage.pollSuspended" })).toEqual({ checked: 1, resumed: 1, failed: 0, resumedWorkflowRunIds: [runId] });
    expect(await h.persistence.getStage(runId, "batch")).toMatchObject({ status: "COMPLETED", outputData: { items: ["x", "y", "z"] }, nextPollAt: null });
    expect((await h.persistence.getRun(runId))?.status).toBe("RUNNING");
    await h.drain();
    expect(await h.persistence.getRun(runId)).toMatchObject({ status: "COMPLETED", output: { count: 3 } });
    expect(executions).toEqual([undefined]);
    await flushAll(h);
    const types = h.sink.forRun(runId).map((e) => e.type);
    expect(types.indexOf("workflow:suspended")).toBeLessThan(types.indexOf("workflow:resumed"));
    expect(types.slice(types.indexOf("workflow:resumed"))).toEqual(["workflow:resumed", "stage:started", "stage:completed", "workflow:completed"]);
  });

  it("run execute again with ctx.resumeState when checkCompletion is ready without an output", async () => {
    const { workflow, executions } = batchWorkflow(() => ({ ready: true }));
    const h = createHarness([workflow]);
    const runId = await h.start("batchy", { prompts: ["a"] });
    await h.drain();
    await h.clock.tick(POLL_MS);
    expect(await h.kernel.dispatch({ type: "stage.pollSuspended" })).toMatchObject({ resumed: 1 });
    expect((await h.persistence.getRun(runId))?.status).toBe("RUNNING");
    await h.drain();
    expect(executions).toEqual([undefined, expect.objectContaining({ batchId: "batch-1" })]);
    expect(await h.persistence.getRun(runId)).toMatchObject({ status: "COMPLETED", output: { count: 1 } });
    await flushAll(h);
    const types = h.sink.forRun(runId).map((e) => e.type);
    expect(types).toContain("stage:resumed");
    expect(types).toContain("workflow:resumed");
  });

  it("fail with a clear error once maxWaitTime has passed", async () => {
    const { workflow, checks } = batchWorkflow(() => ({ ready: false }));
    const h = createHarness([workflow]);
    const runId = await h.start("batchy", { prompts: ["a"] });
    await h.drain();
    for (let i = 0; i < 20; i++) {
      await h.clock.tick(POLL_MS);
      await h.kernel.dispatch({ type: "stage.pollSuspended" });
    }
    const stage = await h.persistence.getStage(runId, "batch");
    expect(stage?.status).toBe("FAILED");
    expect(stage?.errorMessage).toMatch(/exceeded its maxWaitTime/);
    expect(await h.persistence.getRun(runId)).toMatchObject({ status: "FAILED", errorMessage: expect.stringMatching(/maxWaitTime/) });
    expect(checks.length).toBeLessThanOrEqual(MAX_WAIT_MS / POLL_MS + 1);
  });

  it("fail at once when checkCompletion reports the batch failed", async () => {
    const { workflow } = batchWorkflow(() => ({ ready: false, error: "provider rejected the batch" }));
    const h = createHarness([workflow]);
    const runId = await h.start("batchy", { prompts: ["a"] });
    await h.drain();
    await h.clock.tick(POLL_MS);
    expect(await h.kernel.dispatch({ type: "stage.pollSuspended" })).toMatchObject({ failed: 1 });
    expect((await h.persistence.getRun(runId))?.errorMessage).toMatch(/provider rejected the batch/);
  });

  it("keep the run RUNNING while a sibling in the same group still executes", async () => {
    const { workflow: _unused } = batchWorkflow(() => ({ ready: false }));
    const batch = _unused.getStage("batch")!;
    let siblingRuns = 0;
    const sibling = defineStage({
      id: "sibling",
      name: "Sibling",
      schemas: { input: z.unknown(), output: z.object({}), config: z.object({}) },
      async execute() {
        siblingRuns++;
        return { output: {} };
      },
    });
    const workflow = new WorkflowBuilder("mixed", "Mixed", "", z.object({ prompts: z.array(z.string()) }), z.unknown())
      .parallel([batch as typeof sibling, sibling])
      .build();
    const h = createHarness([workflow]);
    const runId = await h.start("mixed", { prompts: ["a"] });
    await h.runNextJob(); // batch suspends, sibling still pending
    expect((await h.persistence.getRun(runId))?.status).toBe("RUNNING");
    await h.runNextJob();
    expect(siblingRuns).toBe(1);
    expect((await h.persistence.getRun(runId))?.status).toBe("SUSPENDED");
  });
});
