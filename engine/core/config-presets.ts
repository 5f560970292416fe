import { z } from "zod";

type Shape = z.ZodRawShape;

/** Adds model settings every AI stage needs. */
export function withAIConfig<S extends Shape>(schema: z.ZodObject<S>) {
  return schema.extend({
    model: z.string().default("local/fast").describe("Model key, e.g. openai/gpt-4.1-mini"),
    temperature: z.number().min(0).max(2).default(0.2),
    maxTokens: z.number().int().positive().default(1024),
  });
}

/** Adds the knobs most stages share: a timeout and verbosity. */
export function withStandardConfig<S extends Shape>(schema: z.ZodObject<S>) {
  return schema.extend({
    timeoutMs: z.number().int().positive().default(300_000),
    verbose: z.boolean().default(false),
  });
}

/** Adds how many items a stage works on at once. */
export function withConcurrency<S extends Shape>(schema: z.ZodObject<S>, defaultConcurrency = 5) {
  return schema.extend({
    concurrency: z.number().int().min(1).max(1000).default(defaultConcurrency),
  });
}

/** Adds named feature flags, all off unless set. */
export function withFeatureFlags<S extends Shape>(schema: z.ZodObject<S>) {
  return schema.extend({
    featureFlags: z.record(z.string(), z.boolean()).default({}),
  });
}
