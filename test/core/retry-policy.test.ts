import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DEFAULT_RETRY_POLICY, isRetryable, NonRetryableError, resolveRetryPolicy, retryDelayMs } from "../../engine/index.js";

describe("retry policy", () => {
  it("fills in defaults: three attempts, one second doubling, 20% jitter", () => {
    expect(resolveRetryPolicy()).toEqual(DEFAULT_RETRY_POLICY);
    expect(resolveRetryPolicy({ maxAttempts: 7 }).maxAttempts).toBe(7);
    expect(resolveRetryPolicy({ maxAttempts: 7 }).initialDelayMs).toBe(1000);
  });

  it("backs off exponentially per failed attempt", () => {
    const policy = resolveRetryPolicy({ initialDelayMs: 100, backoffCoefficient: 3, jitter: 0 });
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(policy, attempt))).toEqual([100, 300, 900, 2700]);
  });

  it("never waits longer than maxDelayMs", () => {
    const policy = resolveRetryPolicy({ initialDelayMs: 1000, maxDelayMs: 5000, jitter: 0 });
    expect(retryDelayMs(policy, 10)).toBe(5000);
  });

  it("spreads the delay by the jitter fraction around the base, driven by the random source", () => {
    const policy = resolveRetryPolicy({ initialDelayMs: 1000, jitter: 0.2 });
    expect(retryDelayMs(policy, 1, () => 0)).toBe(800);
    expect(retryDelayMs(policy, 1, () => 0.5)).toBe(1000);
    expect(retryDelayMs(policy, 1, () => 0.999999)).toBe(1200);
  });

  it("retries ordinary errors but not zod errors, validation errors or listed error names", () => {
    const policy = resolveRetryPolicy({ nonRetryableErrors: ["AuthError"] });
    const auth = Object.assign(new Error("bad key"), { name: "AuthError" });
    const zodError = z.object({ a: z.string() }).safeParse({}).error;
    expect(isRetryable(new Error("timeout"), policy)).toBe(true);
    expect(isRetryable(auth, policy)).toBe(false);
    expect(isRetryable(zodError, policy)).toBe(false);
    expect(isRetryable(new NonRetryableError("give up"), policy)).toBe(false);
    expect(isRetryable(auth, resolveRetryPolicy())).toBe(true);
  });
});
