import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import { createHarness, flushAll } from "../support/kernel-harness.js";
import { runStatuses } from "../support/recovery.js";

const executions = new Map<string, number>();

function counted(id: string) {
  return defineStage({
    id,
    name: id,
    schemas: { input: z.unknown(), output: z.object({ from: z.string() }), config: z.object({}) },
    async execute(ctx) {
      const key = `${ctx.workflowRunId}/${id}`;
      executions.set(key, (executions.get(key) ?? 0) + 1);
      // Yield so workers interleave inside the stage and around its commit.
      await new Promise<void>((resolve) => setImmediate(resolve));
      return { output: { from: id } };
    },
  });
}

const workflow = new WorkflowBuilder("race", "Race", "", z.object({ i: z.number() }), z.unknown())
  .pipe(counted("first"))
  .parallel([counted("left"), counted("middle"), counted("right")])
  .pipe(counted("last"))
  .build();
const STAGES = ["first", "left", "middle", "right", "last"];

describe("concurrent workers", () => {
  it("8 workers over 50 runs commit each stage exactly once and every run completes", async () => {
    executions.clear();
    const h = createHarness([workflow]);
    const runIds: string[] = [];
    for (let i = 0; i < 50; i++) runIds.push(await h.start("race", { i }));

    let done = false;
    const worker = async (workerId: string) => {
      while (!done) {
        const result = await h.runNextJob(workerId);
        if (!result) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    };
    const workers = Array.from({ length: 8 }, (_, i) => worker(`worker-${i}`));
    for (let turn = 0; turn < 100_000 && !done; turn++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (turn % 50 === 0) done = (await runStatuses(h, runIds)).every((s) => s === "COMPLETED");
    }
    done = true;
    await Promise.all(workers);

    expect(await runStatuses(h, runIds)).toEqual(runIds.map(() => "COMPLETED"));
    for (const runId of runIds) {
      for (const stageId of STAGES) expect(executions.get(`${runId}/${stageId}`), `${runId}/${stageId}`).toBe(1);
    }
    await flushAll(h);
    expect(h.sink.getByType("stage:completed")).toHaveLength(50 * STAGES.length);
    expect(h.sink.getByType("workflow:completed")).toHaveLength(50);
    for (const runId of runIds) {
      const sequences = h.sink.forRun(runId).map((e) => e.sequence);
      expect(sequences).toEqual(sequences.map((_, i) => i + 1));
    }
  });
});
