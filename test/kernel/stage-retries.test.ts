import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import { createHarness, flushAll } from "../support/kernel-harness.js";

const N = z.object({ n: z.number() });
const noConfig = z.object({});

function flaky(id: string, failures: number, options: { retry?: Parameters<typeof defineStage>[0]["retry"]; error?: () => Error } = {}) {
  const calls = { count: 0 };
  const stage = defineStage({
    id,
    name: id,
    retry: options.retry,
    schemas: { input: N, output: N, config: noConfig },
    async execute(ctx) {
      calls.count++;
      if (calls.count <= failures) throw options.error?.() ?? new Error(`${id} transient failure ${calls.count}`);
      return { output: ctx.input };
    },
  });
  return { stage, calls };
}

function passThrough(id: string) {
  const calls = { count: 0 };
  const stage = defineStage({
    id,
    name: id,
    schemas: { input: z.unknown(), output: z.unknown(), config: noConfig },
    async execute(ctx) {
      calls.count++;
      return { output: ctx.input };
    },
  });
  return { stage, calls };
}

describe("stage retries", () => {
  it("retries a transient failure with exponential backoff and jitter from the kernel's random source", async () => {
    const { stage, calls } = flaky("flaky", 2, { retry: { maxAttempts: 3, initialDelayMs: 1000, backoffCoefficient: 2, jitter: 0.2 } });
    const workflow = new WorkflowBuilder("retry", "Retry", "", N, N).pipe(stage).build();
    const h = createHarness([workflow], { random: () => 0 });
    const runId = await h.start("retry", { n: 1 });

    const first = await h.runNextJob();
    expect(first).toMatchObject({ outcome: "retrying" });
    const t0 = h.clock.now().getTime();
    expect(first?.nextPollAt?.getTime()).toBe(t0 + 800);
    expect(await h.runNextJob()).toBeNull(); // not before the backoff

    await h.clock.tick(800);
    const second = await h.runNextJob();
    expect(second).toMatchObject({ outcome: "retrying" });
    expect(second?.nextPollAt?.getTime()).toBe(h.clock.now().getTime() + 1600);

    await h.clock.tick(1600);
    expect(await h.runNextJob()).toMatchObject({ outcome: "completed" });
    expect(calls.count).toBe(3);
    expect((await h.persistence.getStage(runId, "flaky"))?.attempt).toBe(3);
    expect((await h.persistence.getRun(runId))?.status).toBe("COMPLETED");

    await flushAll(h);
    expect(h.sink.getByType("stage:failed").map((e) => [e.attempt, e.willRetry])).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(h.sink.getByType("stage:started").map((e) => e.attempt)).toEqual([1, 2, 3]);
  });

  it("fails the stage and the run after maxAttempts", async () => {
    const { stage, calls } = flaky("always", 99, { retry: { maxAttempts: 2, initialDelayMs: 10 } });
    const workflow = new WorkflowBuilder("give-up", "Give up", "", N, N).pipe(stage).build();
    const h = createHarness([workflow]);
    const runId = await h.start("give-up", { n: 1 });
    await h.drain();
    await h.clock.tick(1000);
    await h.drain();
    expect(calls.count).toBe(2);
    const run = await h.persistence.getRun(runId);
    expect(run?.status).toBe("FAILED");
    expect(run?.errorMessage).toBe("Stage always failed: always transient failure 2");
  });

  it("does not retry an error whose name is listed as non-retryable", async () => {
    const authError = () => Object.assign(new Error("invalid API key"), { name: "AuthError" });
    const { stage, calls } = flaky("auth", 99, { retry: { maxAttempts: 5, nonRetryableErrors: ["AuthError"] }, error: authError });
    const workflow = new WorkflowBuilder("auth", "Auth", "", N, N).pipe(stage).build();
    const h = createHarness([workflow]);
    const runId = await h.start("auth", { n: 1 });
    expect(await h.drain()).toEqual([expect.objectContaining({ outcome: "failed", error: "invalid API key" })]);
    expect(calls.count).toBe(1);
    expect((await h.persistence.getRun(runId))?.status).toBe("FAILED");
  });

  it("never retries a ZodError thrown by the stage's own code", async () => {
    let calls = 0;
    const parses = defineStage({
      id: "parses",
      name: "Parses",
      retry: { maxAttempts: 5 },
      schemas: { input: N, output: N, config: noConfig },
      async execute() {
        calls++;
        return { output: z.object({ n: z.number() }).parse({ n: "not a number" }) };
      },
    });
    const workflow = new WorkflowBuilder("zod", "Zod", "", N, N).pipe(parses).build();
    const h = createHarness([workflow]);
    const runId = await h.start("zod", { n: 1 });
    await h.drain();
    await h.clock.tick(60_000);
    await h.drain();
    expect(calls).toBe(1);
    expect((await h.persistence.getRun(runId))?.status).toBe("FAILED");
  });

  it("keeps the run RUNNING while a failed stage waits for its retry", async () => {
    const { stage } = flaky("flaky", 1, { retry: { maxAttempts: 2, initialDelayMs: 5000, jitter: 0 } });
    const sibling = passThrough("sibling");
    const after = passThrough("after");
    const workflow = new WorkflowBuilder("pending-retry", "Pending retry", "", N, z.unknown()).parallel([stage, sibling.stage]).pipe(after.stage).build();
    const h = createHarness([workflow]);
    const runId = await h.start("pending-retry", { n: 1 });
    await h.drain();

    expect((await h.persistence.getRun(runId))?.status).toBe("RUNNING");
    expect((await h.persistence.getStage(runId, "flaky"))).toMatchObject({ status: "PENDING", errorMessage: "flaky transient failure 1" });
    expect((await h.persistence.getStage(runId, "sibling"))?.status).toBe("COMPLETED");
    expect(after.calls.count).toBe(0);

    await h.clock.tick(5000);
    await h.drain();
    expect((await h.persistence.getRun(runId))?.status).toBe("COMPLETED");
    expect(after.calls.count).toBe(1);
  });

  it("fails the run as soon as a stage fails for good: pending siblings are cancelled and later groups never start", async () => {
    const { stage: broken } = flaky("broken", 99, { retry: { maxAttempts: 1 } });
    const sibling = passThrough("sibling");
    const later = passThrough("later");
    const workflow = new WorkflowBuilder("fail-fast", "Fail fast", "", N, z.unknown()).parallel([broken, sibling.stage]).pipe(later.stage).build();
    const h = createHarness([workflow]);
    const runId = await h.start("fail-fast", { n: 1 });

    const first = await h.runNextJob(); // the broken stage is first in the group
    expect(first?.outcome).toBe("failed");
    const run = await h.persistence.getRun(runId);
    expect(run?.status).toBe("FAILED");
    expect(run?.errorMessage).toMatch(/^Stage broken failed/);
    expect((await h.persistence.getStage(runId, "sibling"))?.status).toBe("CANCELLED");
    expect(h.queue.size).toBe(0);

    await h.drain();
    expect(sibling.calls.count).toBe(0);
    expect(later.calls.count).toBe(0);
    expect(await h.persistence.getStage(runId, "later")).toBeNull();
    await flushAll(h);
    expect(h.sink.getByType("workflow:failed")).toEqual([expect.objectContaining({ failedStageId: "broken" })]);
  });
});
