import { describe, expect, it } from "vitest";
import { z } from "zod";
import { withAIConfig, withConcurrency, withFeatureFlags, withStandardConfig } from "../../engine/index.js";

describe("config presets", () => {
  it("withAIConfig adds model settings with defaults and keeps the stage's own fields", () => {
    const schema = withAIConfig(z.object({ topic: z.string().default("news") }));
    expect(schema.parse({})).toEqual({ topic: "news", model: "local/fast", temperature: 0.2, maxTokens: 1024 });
    expect(schema.safeParse({ temperature: 3 }).success).toBe(false);
  });

  it("withStandardConfig adds a timeout and verbosity", () => {
    expect(withStandardConfig(z.object({})).parse({ verbose: true })).toEqual({ timeoutMs: 300_000, verbose: true });
  });

  it("withConcurrency adds a bounded concurrency with the given default", () => {
    const schema = withConcurrency(z.object({}), 12);
    expect(schema.parse({})).toEqual({ concurrency: 12 });
    expect(schema.safeParse({ concurrency: 0 }).success).toBe(false);
  });

  it("withFeatureFlags adds flags that are all off unless set", () => {
    const schema = withFeatureFlags(z.object({}));
    expect(schema.parse({})).toEqual({ featureFlags: {} });
    expect(schema.parse({ featureFlags: { beta: true } })).toEqual({ featureFlags: { beta: true } });
  });

  it("presets compose", () => {
    const schema = withFeatureFlags(withConcurrency(withAIConfig(z.object({}))));
    expect(schema.parse({})).toMatchObject({ model: "local/fast", concurrency: 5, featureFlags: {} });
  });
});
