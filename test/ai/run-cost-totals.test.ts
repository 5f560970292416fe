import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { configureAIProviders, createAIHelper, tool } from "../../engine/ai/index.js";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import type { Workflow } from "../../engine/core/workflow.js";
import { InMemoryAICallLogger } from "../../engine/testing/index.js";
import { batchSummarizeStage, BatchSummarizeOutput } from "../../examples/ai/batch-summarize-stage.js";
import { classifyTicketStage } from "../../examples/ai/classify-stage.js";
import { createHarness, flushAll, type Harness } from "../support/kernel-harness.js";
import { FakeProviderServer } from "./support/fake-provider-server.js";

let server: FakeProviderServer;
beforeAll(async () => {
  server = await FakeProviderServer.start();
});
afterAll(() => server.close());
beforeEach(() => server.reset());
afterEach(() => configureAIProviders({}));

const MINUTE = 60_000;

/** A stage that calls real SDKs (against the fake server): a tool loop on OpenAI and an object from Anthropic. */
const digest = defineStage({
  id: "digest",
  name: "Digest",
  dependencies: [batchSummarizeStage],
  schemas: { input: "none", output: z.object({ headline: z.string(), tags: z.array(z.string()) }), config: z.object({}) },
  async execute(ctx) {
    const ai = createAIHelper(ctx.aiTopic, ctx.aiCallLogger, {
      providers: {
        openai: { apiKey: "sk-test", baseURL: server.openaiBaseURL },
        anthropic: { apiKey: "sk-ant-test", baseURL: server.anthropicBaseURL },
      },
    });
    const { summaries } = ctx.require("batch-summarize");
    const count = tool({ parameters: z.object({}), execute: () => summaries.length });
    const { text } = await ai.generateText("openai/gpt-4.1-mini", "Write a headline", { tools: { count } });
    const { object } = await ai.generateObject("anthropic/claude-haiku-4-5", "Tag these", z.object({ tags: z.array(z.string()) }));
    return { output: { headline: text, tags: object.tags } };
  },
});

/** A stage that runs offline: embeddings and a stream on local models. */
const index = defineStage({
  id: "index",
  name: "Index",
  dependencies: [batchSummarizeStage],
  schemas: { input: "none", output: z.object({ vectors: z.number().int(), blurb: z.string() }), config: z.object({}) },
  async execute(ctx) {
    const ai = createAIHelper(ctx.aiTopic, ctx.aiCallLogger);
    const { summaries } = ctx.require("batch-summarize");
    const { embeddings } = await ai.embed("local/embed", summaries.map((s) => s.summary));
    const stream = ai.streamText("local/smart", "A blurb for the index page");
    let blurb = "";
    for await (const piece of stream) blurb += piece;
    return { output: { vectors: embeddings.length, blurb } };
  },
});

const Input = z.object({ documents: z.array(z.object({ id: z.string(), text: z.string() })) });

const pipeline = new WorkflowBuilder("ai-pipeline", "AI pipeline", "Batch, then parallel model calls", Input, z.unknown())
  .pipe(batchSummarizeStage)
  .parallel([digest, index])
  .build() as unknown as Workflow;

function harnessWithLogger(workflows: Workflow[]): { h: Harness; logger: InMemoryAICallLogger } {
  let h: Harness | undefined;
  const logger = new InMemoryAICallLogger({ clock: { now: () => h!.clock.now() } });
  h = createHarness(workflows, { aiCallLogger: logger });
  // Simulated batches then take their time on the kernel's fake clock, which the test moves.
  configureAIProviders({ local: { clock: h.clock } });
  return { h, logger };
}

/** Moves time past the next poll and lets the kernel check suspended stages and run what is due. */
async function pollAfter(h: Harness, ms: number): Promise<void> {
  await h.clock.tick(ms);
  await h.kernel.dispatch({ type: "stage.pollSuspended" });
  await h.drain();
}

const documents = [
  { id: "doc-1", text: "Queues decouple producers from consumers and absorb bursts." },
  { id: "doc-2", text: "Leases with fencing tokens stop a stale worker from committing." },
  { id: "doc-3", text: "[local:fail] This document makes the simulated batch item fail." },
];

describe("a workflow whose stages make model calls", () => {
  it("ends with run totals equal to the sum of the logged calls", async () => {
    const { h, logger } = harnessWithLogger([pipeline]);
    server.reply(
      { toolCalls: [{ name: "count", args: {} }], usage: { input: 300, cached: 100, output: 20 } },
      { text: "Two documents summarized", usage: { input: 340, output: 8 } },
      { json: { tags: ["queues", "leases"] }, usage: { input: 120, cached: 60, cacheWrite: 40, output: 15 } },
    );
    const runId = await h.start("ai-pipeline", { documents }, {
      config: { "batch-summarize": { localBatchDelayMs: 30 * MINUTE, pollIntervalMs: 10 * MINUTE } },
    });

    await h.drain();
    expect((await h.persistence.getStage(runId, "batch-summarize"))?.status).toBe("SUSPENDED");
    await pollAfter(h, 10 * MINUTE + 1);
    expect((await h.persistence.getStage(runId, "batch-summarize"))?.status).toBe("SUSPENDED");
    await pollAfter(h, 25 * MINUTE);

    const run = await h.persistence.getRun(runId);
    expect(run?.status).toBe("COMPLETED");
    const calls = logger.getCalls(`workflow.${runId}`);
    expect(new Set(calls.map((c) => c.modelKey))).toEqual(
      new Set(["local/fast", "openai/gpt-4.1-mini", "anthropic/claude-haiku-4-5", "local/embed", "local/smart"]),
    );
    const loggedCost = calls.reduce((sum, c) => sum + c.cost, 0);
    const loggedTokens = calls.reduce((sum, c) => sum + c.inputTokens + c.outputTokens, 0);
    expect(loggedCost).toBeGreaterThan(0);
    expect(run!.totalCost).toBeCloseTo(loggedCost, 12);
    expect(run!.totalTokens).toBe(loggedTokens);

    // Each stage's metrics carry its own calls, and the stages add up to the run.
    const stages = await h.persistence.getStagesByRun(runId);
    for (const stage of stages) {
      const own = logger.getCalls(`workflow.${runId}.stage.${stage.stageId}`);
      expect(stage.metrics?.totalCost).toBeCloseTo(own.reduce((sum, c) => sum + c.cost, 0), 12);
      expect(stage.metrics?.totalTokens).toBe(own.reduce((sum, c) => sum + c.inputTokens + c.outputTokens, 0));
    }
    expect(stages.reduce((sum, s) => sum + (s.metrics?.totalCost ?? 0), 0)).toBeCloseTo(run!.totalCost, 12);

    await flushAll(h);
    const completed = h.sink.forRun(runId).find((e) => e.type === "workflow:completed") as unknown as { totalCost: number; totalTokens: number };
    expect(completed.totalCost).toBeCloseTo(loggedCost, 12);
    expect(completed.totalTokens).toBe(loggedTokens);
  });
});

describe("the example batch stage", () => {
  it("resumes with validated summaries, keeps the failed item's error and records the batch once", async () => {
    const { h, logger } = harnessWithLogger([pipeline]);
    const runId = await h.start("ai-pipeline", { documents });

    await h.drain();
    await pollAfter(h, 60 * MINUTE);

    const stage = await h.persistence.getStage(runId, "batch-summarize");
    expect(stage?.status).toBe("COMPLETED");
    const output = BatchSummarizeOutput.parse(stage?.outputData);
    expect(output.summaries.map((s) => s.id)).toEqual(["doc-1", "doc-2"]);
    expect(output.failed).toEqual([{ id: "doc-3", error: expect.stringContaining("simulated item failure") }]);
    const batchCalls = logger.getCalls(`workflow.${runId}.stage.batch-summarize`);
    expect(batchCalls).toHaveLength(2);
    expect(batchCalls.every((c) => c.batchId === output.batchId && c.metadata?.batchDiscount === 0.5)).toBe(true);
    expect(output.cost).toBeCloseTo(batchCalls.reduce((sum, c) => sum + c.cost, 0), 12);
    expect(stage?.metrics).toMatchObject({ itemsSucceeded: 2, itemsFailed: 1 });
  });

  it("fails with a clear maxWaitTime error when the batch takes too long", async () => {
    const { h } = harnessWithLogger([pipeline]);
    const runId = await h.start("ai-pipeline", { documents }, {
      config: { "batch-summarize": { localBatchDelayMs: 5 * 60 * MINUTE, pollIntervalMs: 30 * MINUTE, maxWaitTimeMs: 60 * MINUTE } },
    });

    await h.drain();
    await pollAfter(h, 30 * MINUTE + 1);
    await pollAfter(h, 30 * MINUTE + 1);

    const stage = await h.persistence.getStage(runId, "batch-summarize");
    expect(stage?.status).toBe("FAILED");
    expect(stage?.errorMessage).toMatch(/exceeded its maxWaitTime/);
    expect((await h.persistence.getRun(runId))?.status).toBe("FAILED");
  });
});

describe("the example classify stage", () => {
  it("returns a schema-valid classification and puts its cost on the stage", async () => {
    const workflow = new WorkflowBuilder("triage", "Triage", "Classify a ticket", z.object({ ticket: z.string() }), z.unknown())
      .pipe(classifyTicketStage)
      .build() as unknown as Workflow;
    const { h, logger } = harnessWithLogger([workflow]);
    const runId = await h.start("triage", { ticket: "I was charged twice this month." });

    await h.drain();

    const stage = await h.persistence.getStage(runId, "classify-ticket");
    expect(stage?.status).toBe("COMPLETED");
    const [call] = logger.getCalls(`workflow.${runId}`);
    expect(call).toMatchObject({ callType: "generateObject", modelKey: "local/fast", offline: true });
    expect(stage?.outputData).toMatchObject({ model: "local/fast", cost: call.cost });
    expect(stage?.metrics?.totalCost).toBeCloseTo(call.cost, 12);
  });
});
