import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineAsyncBatchStage, defineStage, StageValidationError, ValidationError, WorkflowBuilder } from "../../engine/index.js";
import { createHarness, flushAll } from "../support/kernel-harness.js";

const Input = z.object({ text: z.string() });

const configured = defineStage({
  id: "configured",
  name: "Configured",
  schemas: {
    input: Input,
    output: z.object({ seen: z.object({ limit: z.number(), mode: z.string() }) }),
    config: z.object({ limit: z.number().int().min(1).default(10), mode: z.enum(["fast", "slow"]).default("fast") }),
  },
  async execute(ctx) {
    return { output: { seen: ctx.config } };
  },
});
const configWorkflow = new WorkflowBuilder("configured", "Configured", "", Input, z.unknown()).pipe(configured).build();

let badOutputRuns = 0;
const badOutput = defineStage({
  id: "bad-output",
  name: "Bad output",
  retry: { maxAttempts: 5 },
  schemas: { input: Input, output: z.object({ count: z.number() }), config: z.object({}) },
  async execute() {
    badOutputRuns++;
    return { output: { count: "three" as unknown as number } };
  },
});
const badOutputWorkflow = new WorkflowBuilder("bad-output", "Bad output", "", Input, z.unknown()).pipe(badOutput).build();

let badBatchChecks = 0;
const badBatch = defineAsyncBatchStage({
  id: "bad-batch",
  name: "Bad batch",
  retry: { maxAttempts: 5 },
  schemas: { input: Input, output: z.object({ count: z.number() }), config: z.object({}) },
  async execute() {
    return {
      suspended: true,
      state: { batchId: "b1", submittedAt: "2030-01-01T00:00:00.000Z", pollInterval: 1000, maxWaitTime: 60_000 },
      pollConfig: { pollInterval: 1000, maxWaitTime: 60_000 },
    };
  },
  async checkCompletion() {
    badBatchChecks++;
    return { ready: true, output: { count: "three" as unknown as number } };
  },
});
const badBatchWorkflow = new WorkflowBuilder("bad-batch", "Bad batch", "", Input, z.unknown()).pipe(badBatch).build();

describe("run input and stage config", () => {
  it("parses each stage's config with its schema, filling in defaults", async () => {
    const h = createHarness([configWorkflow]);
    const runId = await h.start("configured", { text: "x" }, { config: { configured: { limit: 3 } } });
    await h.drain();
    const run = await h.persistence.getRun(runId);
    expect(run?.status).toBe("COMPLETED");
    expect(run?.output).toEqual({ seen: { limit: 3, mode: "fast" } });
    expect(run?.config).toEqual({ configured: { limit: 3, mode: "fast" } });
  });

  it("refuses a config that fails its schema at run.create and writes nothing", async () => {
    const h = createHarness([configWorkflow]);
    const attempt = h.kernel.dispatch({
      type: "run.create",
      idempotencyKey: "bad-config",
      workflowId: "configured",
      input: { text: "x" },
      config: { configured: { limit: 0 } },
    });
    await expect(attempt).rejects.toThrow(ValidationError);
    await expect(attempt).rejects.toThrow(/config\.configured: limit/);
    expect(h.persistence.runCount).toBe(0);
    expect(h.queue.size).toBe(0);
    expect((await h.persistence.getUnpublishedOutboxEvents(10)).length).toBe(0);
  });

  it("refuses config for a stage the workflow does not have", async () => {
    const h = createHarness([configWorkflow]);
    await expect(h.start("configured", { text: "x" }, { config: { nope: {} } })).rejects.toThrow(/unknown stage id/);
    expect(h.persistence.runCount).toBe(0);
  });

  it("refuses input that fails the workflow's input schema, naming the field, and writes nothing", async () => {
    const h = createHarness([configWorkflow]);
    const attempt = h.start("configured", { text: 42 });
    await expect(attempt).rejects.toThrow(ValidationError);
    await expect(attempt).rejects.toThrow(/Invalid input: text/);
    expect(h.persistence.runCount).toBe(0);
    expect(h.queue.size).toBe(0);
  });

  it("refuses an unknown workflow and a priority out of range", async () => {
    const h = createHarness([configWorkflow]);
    await expect(h.start("missing", { text: "x" })).rejects.toThrow(/Workflow "missing" not found/);
    await expect(h.start("configured", { text: "x" }, { priority: 11 })).rejects.toThrow(/priority/);
    expect(h.persistence.runCount).toBe(0);
  });
});

describe("stage output validation", () => {
  it("fails a sync stage whose output does not match its schema, with the zod issues, without retrying", async () => {
    badOutputRuns = 0;
    const h = createHarness([badOutputWorkflow]);
    const runId = await h.start("bad-output", { text: "x" });
    const [result] = await h.drain();
    expect(result?.outcome).toBe("failed");
    expect(result?.error).toMatch(/count/);
    expect(badOutputRuns).toBe(1);
    const stage = await h.persistence.getStage(runId, "bad-output");
    expect(stage?.status).toBe("FAILED");
    expect(stage?.errorMessage).toMatch(/does not match its output schema: count: /);
    expect((await h.persistence.getRun(runId))?.status).toBe("FAILED");
    await flushAll(h);
    expect(h.sink.getByType("stage:failed").map((e) => e.willRetry)).toEqual([false]);
  });

  it("fails an async-batch stage whose checkCompletion output does not match its schema, without retrying", async () => {
    badBatchChecks = 0;
    const h = createHarness([badBatchWorkflow]);
    const runId = await h.start("bad-batch", { text: "x" });
    await h.drain();
    expect((await h.persistence.getStage(runId, "bad-batch"))?.status).toBe("SUSPENDED");
    await h.clock.tick(1001);
    const polled = await h.kernel.dispatch({ type: "stage.pollSuspended" });
    expect(polled).toMatchObject({ checked: 1, failed: 1 });
    const stage = await h.persistence.getStage(runId, "bad-batch");
    expect(stage?.status).toBe("FAILED");
    expect(stage?.errorMessage).toMatch(/does not match its output schema: count/);
    expect((await h.persistence.getRun(runId))?.status).toBe("FAILED");
    await h.clock.tick(10_000);
    await h.drain();
    await h.kernel.dispatch({ type: "stage.pollSuspended" });
    expect(badBatchChecks).toBe(1);
  });

  it("exposes the issues on StageValidationError", () => {
    const error = new StageValidationError("s", [{ path: ["a", 0], message: "Expected number" }]);
    expect(error.message).toBe('Stage "s" returned output that does not match its output schema: a.0: Expected number');
  });
});
