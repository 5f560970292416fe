import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { BatchError, createAIHelper } from "../../engine/ai/index.js";
import { InMemoryAICallLogger } from "../../engine/testing/in-memory-ai-call-logger.js";
import { FakeProviderServer } from "./support/fake-provider-server.js";
import { aiAgainst, TOPIC } from "./support/setup.js";

let server: FakeProviderServer;
beforeAll(async () => {
  server = await FakeProviderServer.start();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const Summary = z.object({ summary: z.string(), words: z.number().int() });

const requests = [
  { id: "doc-1", prompt: "Summarize: queues decouple services." },
  { id: "doc-2", prompt: "Summarize: leases prevent double execution." },
  { id: "doc-3", prompt: "Summarize: an oversized document." },
];

describe.each([
  // Batch price = half the list price: (1,000 input x price + 200 output x price) / 1e6 / 2.
  { model: "openai/gpt-4.1-mini", doc1Cost: ((1_000 * 0.4 + 200 * 1.6) / 1e6) * 0.5, submitPath: "/openai/v1/batches" },
  { model: "anthropic/claude-haiku-4-5", doc1Cost: ((1_000 * 1 + 200 * 5) / 1e6) * 0.5, submitPath: "/anthropic/v1/messages/batches" },
  { model: "google/gemini-2.5-flash", doc1Cost: ((1_000 * 0.3 + 200 * 2.5) / 1e6) * 0.5, submitPath: ":batchGenerateContent" },
])("$model batch", ({ model, doc1Cost, submitPath }) => {
  it("is submitted, polled until done, and read back validated, with a discounted cost per item", async () => {
    const { ai, logger } = aiAgainst(server);
    server
      .batchItem("doc-1", { json: { summary: "Queues decouple services.", words: 3 }, usage: { input: 1_000, output: 200 } })
      .batchItem("doc-2", { json: { summary: 42 }, usage: { input: 900, output: 50 } })
      .batchItem("doc-3", { error: "prompt is too long" });
    const summaries = ai.batch(model, { schema: Summary });

    const submission = await summaries.submit(requests);
    const first = await summaries.getStatus(submission.batchId);
    const second = await summaries.getStatus(submission.batchId);
    const results = await summaries.getResults(submission.batchId);

    expect(server.requestsTo(submitPath).filter((r) => r.method === "POST")).toHaveLength(1);
    expect(submission).toMatchObject({ modelKey: model, itemCount: 3 });
    expect(first.done).toBe(false);
    expect(second).toMatchObject({ state: "completed", done: true });

    const [doc1, doc2, doc3] = results.items;
    expect(doc1).toMatchObject({ id: "doc-1", ok: true, value: { summary: "Queues decouple services.", words: 3 } });
    expect(doc1.cost).toBeCloseTo(doc1Cost, 12);
    // An answer that does not match the schema is a failure with its text, never a made-up value.
    expect(doc2).toMatchObject({ id: "doc-2", ok: false, rawText: '{"summary":42}' });
    expect(doc2.ok === false && doc2.error).toMatch(/does not match the schema: summary/);
    expect(doc2.cost).toBeGreaterThan(0);
    expect(doc3).toMatchObject({ id: "doc-3", ok: false, cost: 0 });
    expect(doc3.ok === false && doc3.error).toContain("prompt is too long");
    expect(doc3).not.toHaveProperty("value");
    expect(results).toMatchObject({ succeeded: 1, failed: 2, alreadyRecorded: false });

    const calls = logger.getCalls(TOPIC);
    expect(calls.map((c) => c.metadata?.itemId)).toEqual(["doc-1", "doc-2"]);
    expect(calls.every((c) => c.batchId === submission.batchId && c.callType === "batch")).toBe(true);
    expect((await logger.getStats(TOPIC)).totalCost).toBeCloseTo(doc1.cost + doc2.cost, 12);
  });

  it("records a batch's cost once even when its results are read again (a resumed stage retried)", async () => {
    const { ai, logger } = aiAgainst(server);
    server.pollsBeforeDone = 0;
    const batch = ai.batch(model);
    const { batchId } = await batch.submit([{ id: "only", prompt: "hello" }]);

    const first = await batch.getResults(batchId);
    const again = await batch.getResults(batchId);

    expect(first.items[0]).toMatchObject({ ok: true, value: "answer for only" });
    expect(again.alreadyRecorded).toBe(true);
    expect(again.cost).toBeCloseTo(first.cost, 12);
    expect((await logger.getStats(TOPIC)).totalCalls).toBe(1);
  });
});

it("sends each OpenAI batch line to the chat completions endpoint with the schema as response_format", async () => {
  const { ai } = aiAgainst(server);
  const { batchId } = await ai.batch("openai/gpt-4.1-mini", { schema: Summary }).submit([{ id: "a", prompt: "x", system: "Be short" }]);

  const upload = server.requestsTo("/openai/v1/files")[0];
  expect(upload.method).toBe("POST");
  expect(batchId).toMatch(/^batch_/);
  const created = server.requestsTo("/openai/v1/batches")[0].body as { endpoint: string; completion_window: string };
  expect(created).toMatchObject({ endpoint: "/v1/chat/completions", completion_window: "24h" });
});

it("reports the items an expired OpenAI batch never answered as failed, with the reason", async () => {
  const { ai } = aiAgainst(server);
  server.expireOpenAIBatches = true;
  server.pollsBeforeDone = 0;
  server.batchItem("doc-1", { text: "done in time", usage: { input: 10, output: 5 } });
  const batch = ai.batch("openai/gpt-4.1-mini");
  const { batchId } = await batch.submit(requests);

  const status = await batch.getStatus(batchId);
  const results = await batch.getResults(batchId);

  expect(status).toMatchObject({ state: "expired", done: true });
  expect(results.items).toMatchObject([
    { id: "doc-1", ok: true, value: "done in time" },
    { id: "doc-2", ok: false, error: expect.stringContaining("expired") },
    { id: "doc-3", ok: false, error: expect.stringContaining("expired") },
  ]);
});

it("refuses item ids the providers would reject, before anything is sent", async () => {
  const { ai } = aiAgainst(server);
  const batch = ai.batch("anthropic/claude-haiku-4-5");
  await expect(batch.submit([{ id: "has space", prompt: "x" }])).rejects.toBeInstanceOf(BatchError);
  await expect(batch.submit([{ id: "a", prompt: "x" }, { id: "a", prompt: "y" }])).rejects.toThrow(/used twice/);
  await expect(batch.submit([])).rejects.toThrow(/at least one/);
  expect(server.requests).toHaveLength(0);
});

describe("local batch", () => {
  it("completes after its delay on the helper's clock, and any process can read it from the id alone", async () => {
    let now = new Date("2025-10-01T12:00:00Z");
    const clock = { now: () => now };
    const options = { clock, providers: { local: { batchCompletionDelayMs: 60_000 } } };
    const submitter = createAIHelper(TOPIC, new InMemoryAICallLogger({ clock }), options);
    const { batchId } = await submitter.batch("local/fast", { schema: Summary }).submit([
      { id: "doc-1", prompt: "Summarize: queues decouple services." },
      { id: "doc-2", prompt: "Summarize: [local:fail] this one breaks" },
    ]);

    // A different helper (think: the Lambda that resumes the stage) with its own logger.
    const logger = new InMemoryAICallLogger({ clock });
    const reader = createAIHelper(TOPIC, logger, options).batch("local/fast", { schema: Summary });
    expect(await reader.getStatus(batchId)).toMatchObject({ state: "running", done: false, total: 2 });
    await expect(reader.getResults(batchId)).rejects.toThrow(/still running/);

    now = new Date(now.getTime() + 60_000);
    expect(await reader.getStatus(batchId)).toMatchObject({ state: "completed", done: true, succeeded: 1, failed: 1 });
    const results = await reader.getResults(batchId);

    expect(results.items[0]).toMatchObject({ id: "doc-1", ok: true });
    expect(Summary.parse(results.items[0].ok && results.items[0].value)).toBeTruthy();
    expect(results.items[1]).toMatchObject({ id: "doc-2", ok: false, error: expect.stringContaining("simulated") });
    expect(results.offline).toBe(true);
    const [call] = logger.getCalls(TOPIC);
    expect(call).toMatchObject({ batchId, offline: true, metadata: { batchDiscount: 0.5 } });
    expect(call.cost).toBeCloseTo(((call.inputTokens * 0.1 + call.outputTokens * 0.4) / 1e6) * 0.5, 15);
  });
});
