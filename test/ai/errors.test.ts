import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ContentFilterError,
  createAIHelper,
  MissingApiKeyError,
  ProviderRequestError,
  RateLimitError,
  UnknownModelError,
  UnsupportedModelOperationError,
} from "../../engine/ai/index.js";
import { InMemoryAICallLogger } from "../../engine/testing/in-memory-ai-call-logger.js";
import { FakeProviderServer } from "./support/fake-provider-server.js";
import { aiAgainst, TOPIC } from "./support/setup.js";

let server: FakeProviderServer;
beforeAll(async () => {
  server = await FakeProviderServer.start();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

describe("an unknown model", () => {
  it("is rejected with the list of known models", async () => {
    const { ai } = aiAgainst(server);
    const error = await ai.generateText("openai/gpt-99", "hi").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownModelError);
    expect((error as Error).message).toContain('Unknown model "openai/gpt-99"');
    expect((error as Error).message).toContain("openai/gpt-4.1-mini");
    expect((error as Error).message).toContain("local/fast");
    expect((error as UnknownModelError).knownModels).toContain("anthropic/claude-haiku-4-5");
  });

  it("is accepted by its bare name when only one provider has it", async () => {
    const { ai } = aiAgainst(server);
    server.reply({ text: "hello" });
    const result = await ai.generateText("gemini-2.5-flash", "hi");
    expect(result.modelKey).toBe("google/gemini-2.5-flash");
  });
});

describe("a missing API key", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it.each([
    ["openai/gpt-4.1-mini", "OPENAI_API_KEY"],
    ["anthropic/claude-haiku-4-5", "ANTHROPIC_API_KEY"],
    ["google/gemini-2.5-flash", "GEMINI_API_KEY"],
  ])("names the environment variable to set for %s", async (model, envVar) => {
    delete process.env.OPENAI_API_KEY;
    delete process.env.ANTHROPIC_API_KEY;
    delete process.env.GEMINI_API_KEY;
    delete process.env.GOOGLE_API_KEY;
    const ai = createAIHelper(TOPIC, new InMemoryAICallLogger());

    const error = await ai.generateText(model, "hi").catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MissingApiKeyError);
    expect((error as Error).message).toContain(envVar);
    expect(server.requests).toHaveLength(0);
  });

  it("is not needed when the key comes from the environment", async () => {
    process.env.OPENAI_API_KEY = "sk-from-env";
    server.reply({ text: "hello" });
    const ai = createAIHelper(TOPIC, new InMemoryAICallLogger(), { providers: { openai: { baseURL: server.openaiBaseURL } } });

    await ai.generateText("openai/gpt-4.1-mini", "hi");

    expect(server.requests[0].headers.authorization).toBe("Bearer sk-from-env");
  });

  it("can be read lazily, e.g. from a secret store, on the first call", async () => {
    let reads = 0;
    server.reply({ text: "one" }, { text: "two" });
    const { ai } = aiAgainst(server, {
      providers: { anthropic: { apiKey: async () => `sk-ant-secret-${++reads}`, baseURL: server.anthropicBaseURL } },
    });

    await ai.generateText("anthropic/claude-haiku-4-5", "hi");
    await ai.generateText("anthropic/claude-haiku-4-5", "again");

    expect(reads).toBe(1);
    // The SDK sends the key as x-api-key or as a bearer token depending on its version.
    const sentKeys = server.requests.map((r) => String(r.headers["x-api-key"] ?? r.headers.authorization).replace("Bearer ", ""));
    expect(sentKeys).toEqual(["sk-ant-secret-1", "sk-ant-secret-1"]);
  });
});

describe("rate limits and server errors", () => {
  it("retries a 429 from OpenAI after the retry-after delay", async () => {
    const { ai, sleeps, logger } = aiAgainst(server);
    server.fail({ status: 429, headers: { "retry-after": "2" }, message: "Rate limit reached" }).reply({ text: "done" });

    const result = await ai.generateText("openai/gpt-4.1-mini", "hi");

    expect(result.text).toBe("done");
    expect(sleeps).toEqual([2000]);
    expect(server.requestsTo("/chat/completions")).toHaveLength(2);
    expect(logger.getCalls(TOPIC)).toHaveLength(1);
  });

  it("prefers Anthropic's retry-after-ms when present", async () => {
    const { ai, sleeps } = aiAgainst(server);
    server.fail({ status: 529, headers: { "retry-after-ms": "750" }, message: "Overloaded" }).reply({ text: "done" });

    await ai.generateText("anthropic/claude-haiku-4-5", "hi");

    expect(sleeps).toEqual([750]);
  });

  it("honours the retryDelay Gemini puts in its 429 body", async () => {
    const { ai, sleeps } = aiAgainst(server);
    server.fail({ status: 429, headers: { "retry-after": "3" }, message: "Resource has been exhausted" }).reply({ text: "done" });

    await ai.generateText("google/gemini-2.5-flash", "hi");

    expect(sleeps).toEqual([3000]);
  });

  it("backs off exponentially on 5xx without retry-after, then gives up with a typed error", async () => {
    const { ai, sleeps } = aiAgainst(server, { retry: { maxRetries: 2, baseDelayMs: 100 } });
    for (let i = 0; i < 3; i++) server.fail({ status: 503, message: "Service unavailable" });

    const error = await ai.generateText("openai/gpt-4.1-mini", "hi").catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderRequestError);
    expect(error).toMatchObject({ provider: "openai", status: 503, retryable: true });
    // random() is 0.5 in these tests: half of 100 ms, then half of 200 ms.
    expect(sleeps).toEqual([50, 100]);
    expect(server.requestsTo("/chat/completions")).toHaveLength(3);
  });

  it("does not retry a 400", async () => {
    const { ai, sleeps } = aiAgainst(server);
    server.fail({ status: 400, message: "Invalid 'messages'" });

    const error = await ai.generateText("openai/gpt-4.1-mini", "hi").catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 400, retryable: false });
    expect((error as Error).message).toContain("Invalid 'messages'");
    expect(sleeps).toEqual([]);
  });

  it("does not hold a worker for a retry-after longer than the limit, and reports the delay", async () => {
    const { ai, sleeps } = aiAgainst(server, { retry: { maxRetryAfterMs: 10_000 } });
    server.fail({ status: 429, headers: { "retry-after": "3600" } });

    const error = await ai.generateText("openai/gpt-4.1-mini", "hi").catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfterMs).toBe(3_600_000);
    expect(sleeps).toEqual([]);
  });
});

describe("refusals and content filters", () => {
  it.each([
    ["openai/gpt-4.1-mini", "refusal" as const],
    ["openai/gpt-4.1-mini", "filter" as const],
    ["anthropic/claude-haiku-4-5", "refusal" as const],
    ["google/gemini-2.5-flash", "refusal" as const],
    ["google/gemini-2.5-flash", "filter" as const],
  ])("%s (%s) raises ContentFilterError and still records the billed tokens", async (model, finish) => {
    const { ai, logger } = aiAgainst(server);
    server.reply({ text: "I can't help with that.", finish, usage: { input: 50, output: 10 } });

    const error = await ai.generateText(model, "something disallowed").catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ContentFilterError);
    expect((error as ContentFilterError).modelKey).toBe(model);
    expect(logger.getCalls(TOPIC)).toHaveLength(1);
  });

  it("is simulated offline with the [local:refuse] marker", async () => {
    const { ai } = aiAgainst(server);
    await expect(ai.generateText("local/fast", "please [local:refuse]")).rejects.toBeInstanceOf(ContentFilterError);
  });
});

describe("models used for the wrong job", () => {
  it("embed with a text model says which kind of model is needed", async () => {
    const { ai } = aiAgainst(server);
    await expect(ai.embed("openai/gpt-4.1-mini", "hi")).rejects.toThrow(UnsupportedModelOperationError);
    await expect(ai.embed("openai/gpt-4.1-mini", "hi")).rejects.toThrow(/embedding model/);
  });

  it("generateText with an embedding model points to embed()", async () => {
    const { ai } = aiAgainst(server);
    await expect(ai.generateText("openai/text-embedding-3-small", "hi")).rejects.toThrow(/use it with embed\(\)/);
  });
});
