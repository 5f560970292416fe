import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import { createHarness, flushAll } from "../support/kernel-harness.js";
import { createGate, until, type Gate } from "../support/gate.js";

const Input = z.object({ n: z.number() });
const Output = z.object({ by: z.string() });

/** A stage that reports which worker's attempt produced its output; attempt 1 waits on a gate. */
function contested() {
  const executions: string[] = [];
  const gates = new Map<number, Gate>();
  const stage = defineStage({
    id: "contested",
    name: "Contested",
    schemas: { input: Input, output: Output, config: z.object({}) },
    async execute(ctx) {
      executions.push(`attempt-${ctx.attempt}`);
      await gates.get(ctx.attempt)?.promise;
      return { output: { by: `attempt-${ctx.attempt}` } };
    },
  });
  return { stage, executions, gates };
}

describe("fencing of stage attempts", () => {
  it("refuses the commit of a stale attempt whose lease expired and was re-claimed; the winner's output stays", async () => {
    const { stage, executions, gates } = contested();
    const workflow = new WorkflowBuilder("fenced", "Fenced", "", Input, Output).pipe(stage).build();
    // Heartbeats off: the first worker is partitioned away and cannot extend its lease.
    const h = createHarness([workflow], { leaseMs: 1000, heartbeatIntervalMs: 1e12 });
    const runId = await h.start("fenced", { n: 1 });
    const gate = createGate();
    gates.set(1, gate);

    const job = { type: "job.execute", workflowRunId: runId, workflowId: "fenced", stageId: "contested" } as const;
    const stale = h.kernel.dispatch({ ...job, workerId: "worker-a" });
    await until(() => executions.length === 1);

    await h.clock.tick(1001);
    const winner = await h.kernel.dispatch({ ...job, workerId: "worker-b" });
    expect(winner).toMatchObject({ outcome: "completed", output: { by: "attempt-2" } });

    gate.open();
    const late = await stale;
    expect(late).toEqual({ outcome: "completed", ghost: true });

    const record = await h.persistence.getStage(runId, "contested");
    expect(record).toMatchObject({ status: "COMPLETED", attempt: 2, outputData: { by: "attempt-2" } });
    const run = await h.persistence.getRun(runId);
    expect(run).toMatchObject({ status: "COMPLETED", output: { by: "attempt-2" } });
    await flushAll(h);
    expect(h.sink.getByType("stage:completed")).toHaveLength(1);
    expect(h.sink.getByType("workflow:completed")).toHaveLength(1);
  });

  it("refuses a stale attempt's failure too: it cannot turn the winner's COMPLETED stage into a retry", async () => {
    const executions: number[] = [];
    const gate = createGate();
    const stage = defineStage({
      id: "contested",
      name: "Contested",
      schemas: { input: Input, output: Output, config: z.object({}) },
      async execute(ctx) {
        executions.push(ctx.attempt);
        if (ctx.attempt === 1) {
          await gate.promise;
          throw new Error("stale worker gave up");
        }
        return { output: { by: "winner" } };
      },
    });
    const workflow = new WorkflowBuilder("fenced-fail", "Fenced", "", Input, Output).pipe(stage).build();
    const h = createHarness([workflow], { leaseMs: 1000, heartbeatIntervalMs: 1e12 });
    const runId = await h.start("fenced-fail", { n: 1 });
    const job = { type: "job.execute", workflowRunId: runId, workflowId: "fenced-fail", stageId: "contested" } as const;
    const stale = h.kernel.dispatch({ ...job, workerId: "a" });
    await until(() => executions.length === 1);
    await h.clock.tick(1001);
    await h.kernel.dispatch({ ...job, workerId: "b" });
    gate.open();
    expect(await stale).toEqual({ outcome: "failed", ghost: true });
    expect(await h.persistence.getStage(runId, "contested")).toMatchObject({ status: "COMPLETED", outputData: { by: "winner" } });
    expect((await h.persistence.getRun(runId))?.status).toBe("COMPLETED");
  });

  it("never re-runs a COMPLETED stage when its job is delivered again", async () => {
    const { stage, executions } = contested();
    const workflow = new WorkflowBuilder("once", "Once", "", Input, Output).pipe(stage).build();
    const h = createHarness([workflow]);
    const runId = await h.start("once", { n: 1 });
    await h.drain();
    expect((await h.persistence.getRun(runId))?.status).toBe("COMPLETED");

    // The same job again, long after (a redelivery, a retried Lambda, a duplicate SQS message).
    await h.clock.tick(10 * 60_000);
    const again = await h.kernel.dispatch({ type: "job.execute", workflowRunId: runId, workflowId: "once", stageId: "contested" });
    expect(again).toMatchObject({ outcome: "skipped", ghost: true });
    await h.queue.enqueue({ workflowRunId: runId, workflowId: "once", stageId: "contested", attempt: 1 });
    await h.drain();
    expect(executions).toEqual(["attempt-1"]);
    expect(await h.persistence.getStage(runId, "contested")).toMatchObject({ status: "COMPLETED", attempt: 1 });
  });

  it("runs the stage code once when the same job is delivered twice at the same time", async () => {
    const { stage, executions, gates } = contested();
    const workflow = new WorkflowBuilder("dup", "Dup", "", Input, Output).pipe(stage).build();
    const h = createHarness([workflow]);
    const runId = await h.start("dup", { n: 1 });
    const gate = createGate();
    gates.set(1, gate);
    const job = { type: "job.execute", workflowRunId: runId, workflowId: "dup", stageId: "contested" } as const;
    const deliveries = [h.kernel.dispatch({ ...job, workerId: "a" }), h.kernel.dispatch({ ...job, workerId: "b" }), h.kernel.dispatch({ ...job, workerId: "c" })];
    await until(() => executions.length >= 1);
    gate.open();
    const results = await Promise.all(deliveries);
    expect(executions).toEqual(["attempt-1"]);
    expect(results.filter((r) => r.outcome === "completed" && !r.ghost)).toHaveLength(1);
    expect(results.filter((r) => r.outcome === "skipped" && r.ghost)).toHaveLength(2);
    await flushAll(h);
    expect(h.sink.getByType("stage:started")).toHaveLength(1);
  });

  it("de-duplicates job.execute by idempotency key: a replay returns the first result without running the stage", async () => {
    const { stage, executions } = contested();
    const workflow = new WorkflowBuilder("keyed", "Keyed", "", Input, Output).pipe(stage).build();
    const h = createHarness([workflow]);
    const runId = await h.start("keyed", { n: 1 });
    const job = { type: "job.execute", idempotencyKey: "job-1", workflowRunId: runId, workflowId: "keyed", stageId: "contested" } as const;
    const first = await h.kernel.dispatch(job);
    const replay = await h.kernel.dispatch(job);
    expect(replay).toEqual(first);
    expect(executions).toEqual(["attempt-1"]);
  });
});
