import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import type { EnqueueJobInput } from "../../engine/kernel/index.js";
import { createHarness } from "../support/kernel-harness.js";

const only = defineStage({
  id: "only",
  name: "Only",
  schemas: { input: z.object({}), output: z.object({}), config: z.object({}) },
  async execute() {
    return { output: {} };
  },
});
const workflow = new WorkflowBuilder("one", "One", "", z.object({}), z.object({})).pipe(only).build();

describe("re-driving a run whose job was lost", () => {
  it("marks the re-enqueued job as a re-drive so de-duplicating transports deliver it again", async () => {
    const h = createHarness([workflow]);
    const runId = await h.start("one", {});
    // The job is lost after the transport accepted it (dead-lettered, or its worker died).
    await h.queue.cancelByRun(runId);
    const enqueued: EnqueueJobInput[] = [];
    const original = h.queue.enqueueParallel.bind(h.queue);
    vi.spyOn(h.queue, "enqueueParallel").mockImplementation(async (jobs) => {
      enqueued.push(...jobs);
      return original(jobs);
    });
    h.clock.advance(120_000);
    expect(await h.kernel.dispatch({ type: "run.reapStuck", stuckThresholdMs: 60_000 })).toEqual({ redriven: 1, failed: 0 });
    expect(enqueued).toEqual([expect.objectContaining({ workflowRunId: runId, stageId: "only", attempt: 1, redrive: true })]);
    await h.drain();
    expect((await h.persistence.getRun(runId))?.status).toBe("COMPLETED");
  });
});
