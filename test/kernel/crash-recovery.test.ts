import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, IdempotencyInProgressError, WorkflowBuilder } from "../../engine/index.js";
import type { BlobStore, JobTransport, Persistence } from "../../engine/kernel/index.js";
import { createHarness, type Harness } from "../support/kernel-harness.js";
import { injectFaults, SimulatedCrash, type FaultInjector } from "../support/fault-injection.js";
import { createGate, until } from "../support/gate.js";
import { drainThroughCrashes, runUntilSettled } from "../support/recovery.js";

const LEASE_MS = 1000;
const STALE_IDEMPOTENCY_MS = 5000;

function makeWorkflow() {
  const executions = new Map<string, number>();
  const stage = (id: string, big = false) =>
    defineStage({
      id,
      name: id,
      schemas: { input: z.unknown(), output: z.object({ from: z.string(), pad: z.string() }), config: z.object({}) },
      async execute(ctx) {
        executions.set(id, (executions.get(id) ?? 0) + 1);
        await ctx.storage.save("note", { by: id });
        // A big output goes through the BlobStore, so blob writes are crash points too.
        return { output: { from: id, pad: big ? "x".repeat(2000) : "" } };
      },
    });
  const workflow = new WorkflowBuilder("crashy", "Crashy", "", z.object({ n: z.number() }), z.unknown())
    .pipe(stage("a", true))
    .parallel([stage("b"), stage("c")])
    .pipe(stage("d"))
    .build();
  return { workflow, executions };
}

interface Faults {
  persistence: FaultInjector<Persistence>;
  jobTransport: FaultInjector<JobTransport>;
  blobStore: FaultInjector<BlobStore>;
}

function faultyHarness() {
  const { workflow, executions } = makeWorkflow();
  const faults: Partial<Faults> = {};
  const h = createHarness([workflow], {
    leaseMs: LEASE_MS,
    idempotencyStaleAfterMs: STALE_IDEMPOTENCY_MS,
    inlineOutputLimitBytes: 1000,
    wrap: {
      persistence: (p) => (faults.persistence = injectFaults<Persistence>(p)).port,
      jobTransport: (q) => (faults.jobTransport = injectFaults<JobTransport>(q)).port,
      blobStore: (b) => (faults.blobStore = injectFaults<BlobStore>(b)).port,
    },
  });
  return { h, faults: faults as Faults, executions };
}

/** A client that retries run.create with the same key until it gets an answer. */
async function startWithRetries(h: Harness, key: string): Promise<string> {
  for (let tries = 0; tries < 10; tries++) {
    try {
      return await h.start("crashy", { n: 1 }, { idempotencyKey: key });
    } catch (error) {
      if (error instanceof IdempotencyInProgressError) await h.clock.tick(STALE_IDEMPOTENCY_MS);
      else if (!(error instanceof SimulatedCrash)) throw error;
    }
  }
  throw new Error("run.create never succeeded");
}

/** Publishes everything, tolerating crashes in the flush (its lock expires after a minute). */
async function flushUntilEmpty(h: Harness): Promise<void> {
  for (let round = 0; round < 5; round++) {
    await h.kernel.dispatch({ type: "outbox.flush", maxEvents: 10_000 }).catch(() => undefined);
    if ((await h.persistence.getUnpublishedOutboxEvents(1)).length === 0) return;
    await h.clock.tick(61_000);
  }
}

/** Every event of the run reached the sink, in sequence order once duplicates (at-least-once) are dropped. */
async function expectGaplessDelivery(h: Harness, runId: string): Promise<void> {
  const run = await h.persistence.getRun(runId);
  const seen = new Set<string>();
  const delivered: number[] = [];
  for (const event of h.sink.forRun(runId)) {
    if (seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    delivered.push(event.sequence);
  }
  expect(delivered).toEqual(Array.from({ length: run!.lastEventSeq }, (_, i) => i + 1));
}

describe("a worker killed at any point loses no run", () => {
  it("after claim, before commit: the stage's lease expires, it runs again and the run completes", async () => {
    const gate = createGate();
    const executions: number[] = [];
    const stage = defineStage({
      id: "dies",
      name: "Dies",
      schemas: { input: z.unknown(), output: z.object({ ok: z.boolean() }), config: z.object({}) },
      async execute(ctx) {
        executions.push(ctx.attempt);
        // Attempt 1's worker dies here: its promise never settles and its heartbeat timer died with it.
        if (ctx.attempt === 1) await gate.promise;
        return { output: { ok: true } };
      },
    });
    const workflow = new WorkflowBuilder("dies", "Dies", "", z.object({}), z.unknown()).pipe(stage).build();
    const h = createHarness([workflow], { leaseMs: LEASE_MS, heartbeatIntervalMs: 1e12 });
    const runId = await h.start("dies", {});
    void h.runNextJob("doomed");
    await until(() => executions.length === 1);

    expect(await runUntilSettled(h, [runId])).toEqual(["COMPLETED"]);
    expect(executions).toEqual([1, 2]);
    expect(await h.persistence.getStage(runId, "dies")).toMatchObject({ status: "COMPLETED", attempt: 2 });
  });

  it("after commit, before enqueue: run.reapStuck re-drives the lost job and the run completes", async () => {
    const { h, faults, executions } = faultyHarness();
    const runId = await h.start("crashy", { n: 1 });
    // The commit of stage a starts group 1; the enqueue of its jobs is lost.
    faults.jobTransport.arm({ method: "enqueueParallel", onCall: 1, when: "before" });
    expect(await drainThroughCrashes(h)).toBe(1);
    expect(faults.jobTransport.fired).toBe(true);
    expect((await h.persistence.getStage(runId, "b"))?.status).toBe("PENDING");
    expect(h.queue.size).toBe(1); // only the crashed worker's leased job

    await h.clock.tick(60_001);
    expect(await h.kernel.dispatch({ type: "run.reapStuck", stuckThresholdMs: 60_000 })).toEqual({ redriven: 1, failed: 0 });
    await h.drain();
    expect((await h.persistence.getRun(runId))?.status).toBe("COMPLETED");
    expect([...executions.values()]).toEqual([1, 1, 1, 1]);
  });

  it("during outbox flush: events published before the crash are published again, none is lost, order is kept", async () => {
    const { h, faults } = faultyHarness();
    const runId = await h.start("crashy", { n: 1 });
    await h.drain();
    faults.persistence.arm({ method: "markOutboxEventsPublished", onCall: 1, when: "before" });
    await expect(h.kernel.dispatch({ type: "outbox.flush" })).rejects.toThrow(SimulatedCrash);
    const firstDelivery = h.sink.forRun(runId).length;
    expect(firstDelivery).toBeGreaterThan(0);
    await flushUntilEmpty(h);
    expect(h.sink.forRun(runId).length).toBe(2 * firstDelivery);
    await expectGaplessDelivery(h, runId);
  });

  it("enqueues no job whose transaction rolled back: no orphan job for a run or group that was never written", async () => {
    const { h, faults, executions } = faultyHarness();
    faults.persistence.arm({ method: "withTransaction", onCall: 1, when: "before" });
    await expect(h.start("crashy", { n: 1 }, { idempotencyKey: "lost" })).rejects.toThrow(SimulatedCrash);
    expect(h.persistence.runCount).toBe(0);
    expect(h.queue.size).toBe(0);

    const runId = await h.start("crashy", { n: 1 }, { idempotencyKey: "kept" });
    // The commit of stage a (its second transaction after the create) fails: group 1 never starts.
    faults.persistence.arm({ method: "withTransaction", onCall: 2, when: "before" });
    await drainThroughCrashes(h);
    expect(faults.persistence.fired).toBe(true);
    expect(await h.persistence.getStage(runId, "b")).toBeNull();
    expect((await h.queue.getJobsByWorkflowRun(runId)).map((j) => j.stageId)).toEqual(["a"]);
    expect(executions.get("b")).toBeUndefined();
  });

  describe("a crash at every call the kernel makes to a port, before or after the call", () => {
    for (const port of ["persistence", "jobTransport", "blobStore"] as const) {
      it(`every run still ends COMPLETED with a crash at any ${port} call`, async () => {
        // A clean run tells which calls there are.
        const clean = faultyHarness();
        clean.faults[port].arm({ method: "none", onCall: 0, when: "before" });
        const cleanRun = await startWithRetries(clean.h, "clean");
        await runUntilSettled(clean.h, [cleanRun]);
        await flushUntilEmpty(clean.h);
        const methods = clean.faults[port].methods();
        const scenarios: { method: string; onCall: number; when: "before" | "after" }[] = [];
        for (const method of methods) {
          for (let n = 1; n <= clean.faults[port].calls(method); n++) {
            scenarios.push({ method, onCall: n, when: "before" }, { method, onCall: n, when: "after" });
          }
        }
        expect(scenarios.length).toBeGreaterThan(0);

        for (const scenario of scenarios) {
          const label = `${port}.${scenario.method} #${scenario.onCall} (${scenario.when})`;
          const { h, faults, executions } = faultyHarness();
          faults[port].arm(scenario);
          const runId = await startWithRetries(h, "k");
          const statuses = await runUntilSettled(h, [runId]);
          await flushUntilEmpty(h);
          expect(statuses, label).toEqual(["COMPLETED"]);
          expect(h.persistence.runCount, label).toBe(1);
          const stages = await h.persistence.getStagesByRun(runId);
          expect(stages.map((s) => s.status), label).toEqual(["COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED"]);
          // Code runs again only after a lost attempt: at most once more than the one clean execution.
          for (const count of executions.values()) expect(count, label).toBeLessThanOrEqual(2);
          expect((await h.persistence.getRun(runId))?.output, label).toEqual({ from: "d", pad: "" });
          await expectGaplessDelivery(h, runId);
        }
      });
    }
  });
});
