import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder, type Workflow } from "../../engine/index.js";
import { createHarness } from "../support/kernel-harness.js";
import { createGate, stageHeldBy, until } from "../support/gate.js";

const STUCK_MS = 60_000;
const counts = new Map<string, number>();
const step = (id: string) =>
  defineStage({
    id,
    name: id,
    schemas: { input: z.unknown(), output: z.object({ id: z.string() }), config: z.object({}) },
    async execute() {
      counts.set(id, (counts.get(id) ?? 0) + 1);
      return { output: { id } };
    },
  });
const workflow = new WorkflowBuilder("stuck", "Stuck", "", z.object({}), z.unknown()).pipe(step("one")).pipe(step("two")).build();

describe("run.reapStuck", () => {
  it("re-drives a run whose next job was lost and leaves it to finish normally", async () => {
    counts.clear();
    const h = createHarness([workflow]);
    const runId = await h.start("stuck", {});
    await h.runNextJob();
    await h.queue.cancelByRun(runId); // the job of stage two is lost
    await h.clock.tick(STUCK_MS + 1);
    expect(await h.kernel.dispatch({ type: "run.reapStuck", stuckThresholdMs: STUCK_MS })).toEqual({ redriven: 1, failed: 0 });
    await h.drain();
    expect((await h.persistence.getRun(runId))?.status).toBe("COMPLETED");
    expect(Object.fromEntries(counts)).toEqual({ one: 1, two: 1 });
  });

  it("re-drives a transition a crash lost: a finished group whose run never advanced", async () => {
    counts.clear();
    const h = createHarness([workflow]);
    const runId = await h.start("stuck", {});
    await h.queue.cancelByRun(runId);
    // What a commit without its transition would leave: stage one done, run still on group 0.
    await h.persistence.updateStage(runId, "one", { status: "COMPLETED", outputData: { id: "one" }, attempt: 1 });
    await h.clock.tick(STUCK_MS + 1);
    expect(await h.kernel.dispatch({ type: "run.reapStuck", stuckThresholdMs: STUCK_MS })).toEqual({ redriven: 1, failed: 0 });
    expect((await h.persistence.getRun(runId))?.currentGroup).toBe(1);
    await h.drain();
    expect(await h.persistence.getRun(runId)).toMatchObject({ status: "COMPLETED", output: { id: "two" } });
    expect(counts.get("one")).toBeUndefined();
  });

  it("leaves alone runs updated recently and runs whose stage is still executing under a valid lease", async () => {
    const gate = createGate();
    const { stage: slow, started } = stageHeldBy(gate);
    const slowWorkflow = new WorkflowBuilder("slow", "Slow", "", z.object({}), z.unknown()).pipe(slow).build();
    const h = createHarness([slowWorkflow], { leaseMs: 10 * STUCK_MS });
    const runId = await h.start("slow", {});
    expect(await h.kernel.dispatch({ type: "run.reapStuck", stuckThresholdMs: STUCK_MS })).toEqual({ redriven: 0, failed: 0 });
    const job = h.runNextJob();
    await until(started);
    await h.clock.tick(2 * STUCK_MS);
    expect(await h.kernel.dispatch({ type: "run.reapStuck", stuckThresholdMs: STUCK_MS })).toEqual({ redriven: 0, failed: 0 });
    expect((await h.persistence.getRun(runId))?.status).toBe("RUNNING");
    gate.open();
    await job;
    expect((await h.persistence.getRun(runId))?.status).toBe("COMPLETED");
  });

  it("fails only a run that nothing can move: its workflow is no longer registered", async () => {
    const registered = new Map<string, Workflow>([["stuck", workflow as unknown as Workflow]]);
    const h = createHarness([workflow], { registry: { getWorkflow: (id) => registered.get(id) } });
    const runId = await h.start("stuck", {});
    await h.queue.cancelByRun(runId);
    await h.clock.tick(STUCK_MS + 1);
    // While the workflow exists, the stuck run is re-driven, not failed...
    expect(await h.kernel.dispatch({ type: "run.reapStuck", stuckThresholdMs: STUCK_MS })).toEqual({ redriven: 1, failed: 0 });
    expect((await h.persistence.getRun(runId))?.status).toBe("RUNNING");
    // ...once nothing could execute it any more, it is failed with the reason.
    registered.delete("stuck");
    await h.clock.tick(STUCK_MS + 1);
    expect(await h.kernel.dispatch({ type: "run.reapStuck", stuckThresholdMs: STUCK_MS })).toEqual({ redriven: 0, failed: 1 });
    expect(await h.persistence.getRun(runId)).toMatchObject({ status: "FAILED", errorMessage: "Workflow stuck is no longer registered" });
    expect(await h.queue.getJobsByWorkflowRun(runId)).toEqual([]);
  });
});
