import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, InvalidStateError, WorkflowBuilder } from "../../engine/index.js";
import { isBlobReference, StageNotFoundError } from "../../engine/kernel/index.js";
import { createHarness, flushAll } from "../support/kernel-harness.js";
import { createGate, stageHeldBy, until } from "../support/gate.js";

function build() {
  const executions: string[] = [];
  const stage = (id: string, big = false) =>
    defineStage({
      id,
      name: id,
      schemas: { input: z.unknown(), output: z.object({ from: z.string(), run: z.number(), pad: z.string() }), config: z.object({}) },
      async execute(ctx) {
        executions.push(id);
        const run = executions.filter((e) => e === id).length;
        await ctx.storage.save("trace", { id, run });
        return { output: { from: id, run, pad: big ? "y".repeat(5000) : "" }, artifacts: { summary: `${id}#${run}` } };
      },
    });
  const workflow = new WorkflowBuilder("rerun", "Rerun", "", z.object({}), z.unknown())
    .pipe(stage("a"))
    .pipe(stage("b", true))
    .parallel([stage("c"), stage("d", true)])
    .build();
  return { workflow, executions };
}

describe("run.rerunFrom", () => {
  it("resets the chosen stage and every later one, removes their outputs and artifacts, and runs them again", async () => {
    const { workflow, executions } = build();
    const h = createHarness([workflow], { inlineOutputLimitBytes: 1000 });
    const runId = await h.start("rerun", {});
    await h.drain();
    expect((await h.persistence.getRun(runId))?.status).toBe("COMPLETED");
    const bOutput = (await h.persistence.getStage(runId, "b"))?.outputData;
    expect(isBlobReference(bOutput)).toBe(true);
    const keysBefore = await h.blobStore.list(`runs/${runId}/`);
    expect(keysBefore).toEqual(
      expect.arrayContaining([
        `runs/${runId}/stages/a/artifacts/trace`,
        `runs/${runId}/stages/b/artifacts/summary`,
        `runs/${runId}/stages/b/output-1.json`,
        `runs/${runId}/stages/d/output-1.json`,
      ]),
    );

    const result = await h.kernel.dispatch({ type: "run.rerunFrom", workflowRunId: runId, fromStageId: "b" });
    expect(result).toEqual({ workflowRunId: runId, fromStageId: "b", deletedStages: ["b", "c", "d"] });

    const run = await h.persistence.getRun(runId);
    expect(run).toMatchObject({ status: "RUNNING", output: null, currentGroup: 1, completedAt: null });
    expect(await h.persistence.getStage(runId, "a")).toMatchObject({ status: "COMPLETED", outputData: { from: "a", run: 1, pad: "" } });
    expect(await h.persistence.getStage(runId, "b")).toMatchObject({ status: "PENDING", outputData: null, attempt: 1 });
    expect(await h.persistence.getStage(runId, "c")).toBeNull();
    const keysAfter = await h.blobStore.list(`runs/${runId}/`);
    expect(keysAfter).toEqual([`runs/${runId}/stages/a/artifacts/summary`, `runs/${runId}/stages/a/artifacts/trace`]);

    await h.drain();
    expect(executions).toEqual(["a", "b", "c", "d", "b", "c", "d"]);
    expect(await h.persistence.getStage(runId, "b")).toMatchObject({ status: "COMPLETED", attempt: 2 });
    const final = await h.persistence.getRun(runId);
    expect(final?.status).toBe("COMPLETED");
    await flushAll(h);
    expect(h.sink.getByType("workflow:rerun")).toEqual([expect.objectContaining({ fromStageId: "b", resetStageIds: ["b", "c", "d"] })]);
    expect(h.sink.getByType("stage:started").filter((e) => e.stageId === "b").map((e) => e.attempt)).toEqual([1, 2]);
    expect(h.sink.getByType("workflow:completed")).toHaveLength(2);
  });

  it("reruns a FAILED run from its failed stage", async () => {
    let fail = true;
    const a = defineStage({
      id: "a",
      name: "a",
      retry: { maxAttempts: 1 },
      schemas: { input: z.unknown(), output: z.object({}), config: z.object({}) },
      async execute() {
        if (fail) throw new Error("broken");
        return { output: {} };
      },
    });
    const workflow = new WorkflowBuilder("rerun-failed", "R", "", z.object({}), z.unknown()).pipe(a).build();
    const h = createHarness([workflow]);
    const runId = await h.start("rerun-failed", {});
    await h.drain();
    expect((await h.persistence.getRun(runId))?.status).toBe("FAILED");
    fail = false;
    await h.kernel.dispatch({ type: "run.rerunFrom", workflowRunId: runId, fromStageId: "a" });
    await h.drain();
    expect(await h.persistence.getRun(runId)).toMatchObject({ status: "COMPLETED", errorMessage: null });
  });

  it("refuses a run that is still RUNNING and a stage the workflow does not have", async () => {
    const gate = createGate();
    const { stage: slow, started } = stageHeldBy(gate);
    const workflow = new WorkflowBuilder("rerun-running", "R", "", z.object({}), z.unknown()).pipe(slow).build();
    const h = createHarness([workflow]);
    const runId = await h.start("rerun-running", {});
    const job = h.runNextJob();
    await until(started);
    await expect(h.kernel.dispatch({ type: "run.rerunFrom", workflowRunId: runId, fromStageId: "slow" })).rejects.toThrow(InvalidStateError);
    gate.open();
    await job;
    await expect(h.kernel.dispatch({ type: "run.rerunFrom", workflowRunId: runId, fromStageId: "nope" })).rejects.toThrow(StageNotFoundError);
    expect((await h.persistence.getRun(runId))?.status).toBe("COMPLETED");
  });
});
