import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import type { KernelConfig } from "../../engine/kernel/index.js";
import { createHarness } from "../support/kernel-harness.js";
import { createGate, until } from "../support/gate.js";

const LEASE_MS = 1000;

function longStageWorkflow() {
  const executions: number[] = [];
  const gate = createGate();
  const stage = defineStage({
    id: "long",
    name: "Long",
    schemas: { input: z.object({}), output: z.object({ attempt: z.number() }), config: z.object({}) },
    async execute(ctx) {
      executions.push(ctx.attempt);
      // Only the first attempt is slow; a takeover (if any) finishes at once.
      if (ctx.attempt === 1) await gate.promise;
      return { output: { attempt: ctx.attempt } };
    },
  });
  const workflow = new WorkflowBuilder("long", "Long", "", z.object({}), z.unknown()).pipe(stage).build();
  return { workflow, executions, gate };
}

/** Five lease lengths pass while the stage runs, with the maintenance tick's reaper and a second worker in between. */
async function runLongStage(overrides: Partial<KernelConfig>) {
  const { workflow, executions, gate } = longStageWorkflow();
  const h = createHarness([workflow], { leaseMs: LEASE_MS, ...overrides });
  const runId = await h.start("long", {});
  const first = h.runNextJob("worker-a");
  await until(() => executions.length === 1);
  const otherResults = [];
  for (let elapsed = 0; elapsed < 5 * LEASE_MS; elapsed += 250) {
    await h.clock.tick(250);
    await h.kernel.dispatch({ type: "lease.reapStale", staleThresholdMs: LEASE_MS });
    const other = await h.runNextJob("worker-b");
    if (other) otherResults.push(other);
  }
  gate.open();
  const firstResult = await first;
  return { h, runId, executions, firstResult, otherResults };
}

describe("lease heartbeats", () => {
  it("keep a stage that runs longer than its lease from being executed twice", async () => {
    const { h, runId, executions, firstResult, otherResults } = await runLongStage({ heartbeatIntervalMs: LEASE_MS / 3 });
    expect(executions).toEqual([1]);
    expect(otherResults).toEqual([]);
    expect(firstResult).toMatchObject({ outcome: "completed", output: { attempt: 1 } });
    expect(firstResult?.ghost).toBeUndefined();
    expect(await h.persistence.getStage(runId, "long")).toMatchObject({ status: "COMPLETED", attempt: 1, leaseOwner: null });
    expect(h.clock.pendingTimers).toBe(0);
  });

  it("without heartbeats the same stage is taken over and executed again (what the heartbeat prevents)", async () => {
    const { h, runId, executions, firstResult } = await runLongStage({ heartbeatIntervalMs: 1e12 });
    expect(executions.length).toBeGreaterThan(1);
    expect(firstResult).toMatchObject({ ghost: true });
    expect((await h.persistence.getStage(runId, "long"))?.attempt).toBeGreaterThan(1);
  });

  it("aborts ctx.signal when the attempt lost its lease to another worker", async () => {
    let signal: AbortSignal | undefined;
    const gate = createGate();
    const executions: number[] = [];
    const stage = defineStage({
      id: "slow",
      name: "Slow",
      schemas: { input: z.object({}), output: z.object({}), config: z.object({}) },
      async execute(ctx) {
        executions.push(ctx.attempt);
        if (ctx.attempt === 1) {
          signal = ctx.signal;
          await gate.promise;
        }
        return { output: {} };
      },
    });
    const workflow = new WorkflowBuilder("slow", "Slow", "", z.object({}), z.unknown()).pipe(stage).build();
    // The heartbeat is slower than the lease: by the time it runs, someone else holds the stage.
    const h = createHarness([workflow], { leaseMs: LEASE_MS, heartbeatIntervalMs: 3 * LEASE_MS });
    const runId = await h.start("slow", {});
    const first = h.runNextJob("a");
    await until(() => executions.length === 1);
    await h.clock.tick(LEASE_MS + 1);
    await h.kernel.dispatch({ type: "job.execute", workflowRunId: runId, workflowId: "slow", stageId: "slow", workerId: "b" });
    expect(signal?.aborted).toBe(false);
    await h.clock.tick(2 * LEASE_MS);
    expect(signal?.aborted).toBe(true);
    gate.open();
    expect(await first).toMatchObject({ ghost: true });
  });
});
