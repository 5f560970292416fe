import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { UnsupportedModelOperationError } from "../../engine/ai/index.js";
import { FakeProviderServer } from "./support/fake-provider-server.js";
import { aiAgainst, TOPIC } from "./support/setup.js";

let server: FakeProviderServer;
beforeAll(async () => {
  server = await FakeProviderServer.start();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

it("embeds one text into one vector and prices the tokens OpenAI reports", async () => {
  const { ai, logger } = aiAgainst(server);
  server.reply({ usage: { input: 1_000, output: 0 } });

  const result = await ai.embed("openai/text-embedding-3-small", "durable workflows");

  expect(result.embedding).toHaveLength(4);
  expect(result.usage.inputTokens).toBe(1_000);
  // text-embedding-3-small: $0.02 per million tokens.
  expect(result.cost).toBeCloseTo((1_000 * 0.02) / 1_000_000, 15);
  expect(logger.getCalls(TOPIC)[0]).toMatchObject({ callType: "embed", inputTokens: 1_000, outputTokens: 0 });
});

it("embeds many texts in one request, in order", async () => {
  const { ai } = aiAgainst(server);

  const result = await ai.embed("openai/text-embedding-3-small", ["a", "bb", "ccc"], { providerOptions: { openai: { dimensions: 4 } } });

  expect(result.embeddings).toHaveLength(3);
  expect(result.embeddings[0]).not.toEqual(result.embeddings[1]);
  expect(server.requests).toHaveLength(1);
  expect(server.requests[0].body).toMatchObject({ input: ["a", "bb", "ccc"], dimensions: 4 });
});

it("estimates Gemini embedding tokens, which the API does not report, and labels the cost estimated", async () => {
  const { ai, logger } = aiAgainst(server);

  const result = await ai.embed("google/gemini-embedding-001", ["x".repeat(40), "y".repeat(80)]);

  expect(result.embeddings).toHaveLength(2);
  expect(result.usage.inputTokens).toBe(10 + 20);
  expect(result.costSource).toBe("estimated");
  expect(logger.getCalls(TOPIC)[0].costSource).toBe("estimated");
  expect(server.requests[0].path).toContain("gemini-embedding-001:batchEmbedContents");
});

it("tells the user Anthropic has no embeddings", async () => {
  const { ai } = aiAgainst(server);
  await expect(ai.embed("anthropic/claude-haiku-4-5", "hi")).rejects.toBeInstanceOf(UnsupportedModelOperationError);
});

it("embeds offline: similar texts get closer vectors than unrelated ones", async () => {
  const { ai } = aiAgainst(server);
  const { embeddings } = await ai.embed("local/embed", [
    "the queue retries failed jobs",
    "failed jobs are retried by the queue",
    "bananas are yellow",
  ]);
  const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

  expect(cosine(embeddings[0], embeddings[1])).toBeGreaterThan(cosine(embeddings[0], embeddings[2]));
  expect(server.requests).toHaveLength(0);
});
