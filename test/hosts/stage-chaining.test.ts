import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import { createKernel } from "../../engine/kernel/index.js";
import type { NodeHost, NodeHostConfig } from "../../engine/hosts/node/index.js";
import type { EnqueueJobInput, JobTransport } from "../../engine/kernel/ports.js";
import type { InMemoryJobQueue } from "../../engine/testing/index.js";
import { createHarness, type Harness } from "../support/kernel-harness.js";
import { createGate, until, type Gate } from "../support/gate.js";
import { createTestHost } from "../support/node-host.js";

const STUCK_MS = 60_000;

const executions: string[] = [];
const step = (id: string, gate?: Gate) =>
  defineStage({
    id,
    name: id,
    schemas: { input: z.unknown(), output: z.object({ id: z.string() }), config: z.object({}) },
    async execute(ctx) {
      executions.push(`${ctx.workflowRunId}/${id}`);
      if (gate) await gate.promise;
      return { output: { id } };
    },
  });

function chain(id: string, length: number, gates: Record<string, Gate> = {}) {
  let builder = new WorkflowBuilder(id, id, "", z.object({}), z.unknown()) as WorkflowBuilder<object, unknown, Record<string, unknown>>;
  for (let i = 1; i <= length; i++) builder = builder.pipe(step(`s${i}`, gates[`s${i}`])) as typeof builder;
  return builder.build();
}

const fanOut = new WorkflowBuilder("fan", "fan", "", z.object({}), z.unknown())
  .pipe(step("first"))
  .parallel([step("left"), step("right")])
  .build();

/** Counts what reaches the queue: chained stages must not. */
function countingQueue(queue: InMemoryJobQueue, enqueued: EnqueueJobInput[]): JobTransport {
  return new Proxy(queue, {
    get(target, key, receiver) {
      if (key === "enqueue") return (job: EnqueueJobInput) => (enqueued.push(job), target.enqueue(job));
      if (key === "enqueueParallel") return (jobs: EnqueueJobInput[]) => (enqueued.push(...jobs), target.enqueueParallel(jobs));
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const hosts: NodeHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.stop()));
  executions.length = 0;
});

function startHost(h: Harness, transport: JobTransport, overrides: Partial<NodeHostConfig> = {}): NodeHost {
  return createTestHost(h, hosts, { jobTransport: transport, ...overrides });
}

const status = async (h: Harness, runId: string) => (await h.persistence.getRun(runId))?.status;

/** Takes the next queued job and executes it by hand with the given chaining flags, as a host would. */
async function executeQueuedJob(h: Harness, flags: { returnNextJob?: boolean; claimNextStage?: boolean }) {
  const job = (await h.queue.dequeue("w"))!;
  const result = await h.kernel.dispatch({ type: "job.execute", workflowRunId: job.workflowRunId, workflowId: job.workflowId, stageId: job.stageId, jobId: job.jobId, workerId: "w", ...flags });
  await h.queue.complete(job.jobId);
  return result;
}

describe("job.execute with returnNextJob", () => {
  it("hands back the next stage of a chain instead of enqueueing it; without the flag it is enqueued", async () => {
    const h = createHarness([chain("c2", 2)]);
    const runId = await h.start("c2", {});
    const result = await executeQueuedJob(h, { returnNextJob: true });
    expect(result).toMatchObject({ outcome: "completed", nextJob: { workflowRunId: runId, workflowId: "c2", stageId: "s2", attempt: 1 } });
    expect(h.queue.size).toBe(0);
    expect((await h.persistence.getStage(runId, "s2"))?.status).toBe("PENDING");

    const other = await h.start("c2", {});
    const [plain] = await h.drain({ maxJobs: 1 });
    expect(plain?.nextJob).toBeUndefined();
    expect((await h.queue.dequeue("w"))?.workflowRunId).toBe(other);
  });

  it("enqueues as usual when the next group has several stages", async () => {
    const h = createHarness([fanOut]);
    await h.start("fan", {});
    const result = await executeQueuedJob(h, { returnNextJob: true });
    expect(result.nextJob).toBeUndefined();
    expect(h.queue.size).toBe(2);
  });

  it("loses nothing when the caller drops the handed-back job: run.reapStuck re-drives the stage", async () => {
    const h = createHarness([chain("c3", 3)]);
    const runId = await h.start("c3", {});
    const result = await executeQueuedJob(h, { returnNextJob: true });
    expect(result.nextJob?.stageId).toBe("s2"); // ...and the worker dies here
    await h.clock.tick(STUCK_MS + 1);
    expect(await h.kernel.dispatch({ type: "run.reapStuck", stuckThresholdMs: STUCK_MS })).toEqual({ redriven: 1, failed: 0 });
    await h.drain();
    expect(await status(h, runId)).toBe("COMPLETED");
    expect(executions).toEqual([`${runId}/s1`, `${runId}/s2`, `${runId}/s3`]);
  });
});

describe("node host stage chaining", () => {
  it("runs a chain's later stages in the same slot without a queue round trip", async () => {
    const enqueued: EnqueueJobInput[] = [];
    const h = createHarness([chain("c5", 5)], { wrap: { jobTransport: (queue) => countingQueue(queue, enqueued) } });
    const host = startHost(h, countingQueue(h.queue, enqueued));
    await host.start();
    const runId = await h.start("c5", {});
    await until(async () => (await status(h, runId)) === "COMPLETED");
    expect(executions).toEqual([1, 2, 3, 4, 5].map((i) => `${runId}/s${i}`));
    // Only run.create's job for s1 went through the queue.
    expect(enqueued.map((job) => job.stageId)).toEqual(["s1"]);
    expect(host.stats()).toMatchObject({ jobsProcessed: 5, jobsSucceeded: 5, jobsFailed: 0 });
  });

  it("goes back to the queue after maxChainedStages, and never chains with chainStages: false", async () => {
    const enqueued: EnqueueJobInput[] = [];
    const h = createHarness([chain("c5", 5)], { wrap: { jobTransport: (queue) => countingQueue(queue, enqueued) } });
    const host = startHost(h, countingQueue(h.queue, enqueued), { maxChainedStages: 2 });
    await host.start();
    const runId = await h.start("c5", {});
    await until(async () => (await status(h, runId)) === "COMPLETED");
    expect(enqueued.map((job) => job.stageId)).toEqual(["s1", "s4"]);
    await host.stop();

    enqueued.length = 0;
    const unchained = startHost(h, countingQueue(h.queue, enqueued), { chainStages: false, workerId: "node-2" });
    await unchained.start();
    const second = await h.start("c5", {});
    await until(async () => (await status(h, second)) === "COMPLETED");
    expect(enqueued.map((job) => job.stageId)).toEqual(["s1", "s2", "s3", "s4", "s5"]);
  });

  it("finishes the stage its last commit already claimed when the host is stopping, and claims no further one", async () => {
    const gate = createGate();
    const h = createHarness([chain("c3", 3, { s1: gate })]);
    const host = startHost(h, h.queue);
    await host.start();
    const runId = await h.start("c3", {});
    await until(() => executions.length === 1);
    const stopping = host.stop();
    gate.open();
    await stopping;
    expect(executions).toEqual([`${runId}/s1`, `${runId}/s2`]);
    expect((await h.persistence.getStage(runId, "s3"))?.status).toBe("PENDING");
    expect(h.queue.size).toBe(1);
    await h.drain();
    expect(await status(h, runId)).toBe("COMPLETED");
  });
});

/** Runs s1 of a fresh run by hand with claimNextStage and returns what its commit handed over. */
async function commitFirstClaimingNext(h: Harness, workflowId: string) {
  const runId = await h.start(workflowId, {});
  const result = await executeQueuedJob(h, { claimNextStage: true });
  return { runId, result, claim: result.nextJob?.claim };
}

const eventTrail = async (h: Harness, runId: string) =>
  (await h.persistence.getOutboxEventsByRun(runId)).map((e) => `${e.eventType}${e.payload.stageId ? ` ${String(e.payload.stageId)}` : ""}`);

describe("job.execute with claimNextStage", () => {
  it("claims the next stage in the commit: RUNNING under this worker's lease, stage:started written with stage:completed, nothing enqueued", async () => {
    const h = createHarness([chain("c2", 2)]);
    const { runId, result, claim } = await commitFirstClaimingNext(h, "c2");
    expect(result).toMatchObject({ outcome: "completed", nextJob: { workflowRunId: runId, stageId: "s2", attempt: 1 } });
    expect(claim).toMatchObject({ workflowRunId: runId, stageId: "s2", attempt: 1, leaseOwner: "w" });
    expect(h.queue.size).toBe(0);
    const s2 = await h.persistence.getStage(runId, "s2");
    expect(s2).toMatchObject({ status: "RUNNING", attempt: 1, leaseOwner: "w" });
    expect(s2?.leaseExpiresAt?.getTime()).toBe(h.clock.now().getTime() + 60_000);
    expect(await eventTrail(h, runId)).toEqual(["workflow:created", "workflow:started", "stage:started s1", "stage:completed s1", "stage:started s2"]);

    const second = await h.kernel.dispatch({ type: "job.execute", workflowRunId: runId, workflowId: "c2", stageId: "s2", workerId: "w", claim });
    expect(second).toMatchObject({ outcome: "completed" });
    expect(await status(h, runId)).toBe("COMPLETED");
    // No second claim: one stage:started per stage, attempt 1 each.
    expect(await eventTrail(h, runId)).toEqual([
      "workflow:created",
      "workflow:started",
      "stage:started s1",
      "stage:completed s1",
      "stage:started s2",
      "stage:completed s2",
      "workflow:completed",
    ]);
    expect((await h.persistence.getStage(runId, "s2"))?.attempt).toBe(1);
  });

  it("hands the next stage its input and earlier outputs as copies: what a stage does to them does not reach the next", async () => {
    const seen: unknown[] = [];
    const base = z.object({ items: z.array(z.number()) });
    const first = defineStage({
      id: "s1",
      name: "s1",
      schemas: { input: z.unknown(), output: z.unknown(), config: z.object({}) },
      async execute() {
        return { output: { items: [1, 2] } };
      },
    });
    const mutating = defineStage({
      id: "s2",
      name: "s2",
      schemas: { input: z.unknown(), output: base, config: z.object({}) },
      async execute(ctx) {
        const earlier = ctx.require("s1" as never) as { items: number[] };
        earlier.items.push(99);
        return { output: { items: [3] } };
      },
    });
    const reading = defineStage({
      id: "s3",
      name: "s3",
      schemas: { input: base, output: base, config: z.object({}) },
      async execute(ctx) {
        seen.push(ctx.input, ctx.require("s1" as never));
        return { output: ctx.input };
      },
    });
    const workflow = new WorkflowBuilder("copies", "copies", "", z.object({}), z.unknown()).pipe(first).pipe(mutating).pipe(reading).build();
    const h = createHarness([workflow]);
    const { runId, claim } = await commitFirstClaimingNext(h, "copies");
    const second = await h.kernel.dispatch({ type: "job.execute", workflowRunId: runId, workflowId: "copies", stageId: "s2", workerId: "w", claim, claimNextStage: true });
    await h.kernel.dispatch({ type: "job.execute", workflowRunId: runId, workflowId: "copies", stageId: "s3", workerId: "w", claim: second.nextJob?.claim });
    expect(seen).toEqual([{ items: [3] }, { items: [1, 2] }]);
    expect(await status(h, runId)).toBe("COMPLETED");
  });

  it("accepts a claim once: a second dispatch with it goes through the normal claim, which refuses the running stage", async () => {
    const gate = createGate();
    const h = createHarness([chain("c2g", 2, { s2: gate })]);
    const { runId, claim } = await commitFirstClaimingNext(h, "c2g");
    const running = h.kernel.dispatch({ type: "job.execute", workflowRunId: runId, workflowId: "c2g", stageId: "s2", workerId: "w", claim });
    await until(() => executions.length === 2);
    const again = await h.kernel.dispatch({ type: "job.execute", workflowRunId: runId, workflowId: "c2g", stageId: "s2", workerId: "w", claim });
    expect(again).toMatchObject({ outcome: "skipped", ghost: true });
    gate.open();
    expect(await running).toMatchObject({ outcome: "completed" });
    expect(executions.filter((e) => e.endsWith("/s2"))).toHaveLength(1);
  });

  it("refuses another kernel's claim: that kernel's normal claim finds the stage running under a live lease", async () => {
    const h = createHarness([chain("c2k", 2)]);
    const { runId, claim } = await commitFirstClaimingNext(h, "c2k");
    const other = createKernel({ ...h.kernel.config, workerId: "other" });
    const result = await other.dispatch({ type: "job.execute", workflowRunId: runId, workflowId: "c2k", stageId: "s2", workerId: "other", claim });
    expect(result).toMatchObject({ outcome: "skipped", ghost: true });
    expect(executions.filter((e) => e.endsWith("/s2"))).toHaveLength(0);
    expect(await h.kernel.dispatch({ type: "job.execute", workflowRunId: runId, workflowId: "c2k", stageId: "s2", workerId: "w", claim })).toMatchObject({ outcome: "completed" });
  });

  it("loses nothing when the worker dies holding a claimed stage: its lease expires and lease.reapStale retries it", async () => {
    const h = createHarness([chain("c3", 3)]);
    const { runId, claim } = await commitFirstClaimingNext(h, "c3");
    expect(claim?.stageId).toBe("s2"); // ...and the worker dies here
    await h.clock.tick(60_001);
    expect(await h.kernel.dispatch({ type: "lease.reapStale", staleThresholdMs: 60_000 })).toMatchObject({ released: 1 });
    // The expired lease counts as a failed attempt: s2 is retried after its backoff.
    await h.clock.tick(60_000);
    await h.drain();
    expect(await status(h, runId)).toBe("COMPLETED");
    expect(executions).toEqual([`${runId}/s1`, `${runId}/s2`, `${runId}/s3`]);
    expect((await h.persistence.getStage(runId, "s2"))?.attempt).toBe(2);
  });

  it("discards the claimed stage's result as a ghost when the run is cancelled before it commits", async () => {
    const h = createHarness([chain("c2", 2)]);
    const { runId, claim } = await commitFirstClaimingNext(h, "c2");
    await h.kernel.dispatch({ type: "run.cancel", workflowRunId: runId, reason: "user" });
    const result = await h.kernel.dispatch({ type: "job.execute", workflowRunId: runId, workflowId: "c2", stageId: "s2", workerId: "w", claim });
    expect(result).toMatchObject({ outcome: "completed", ghost: true });
    // The claimed stage did run (no claim read to notice the cancel); its commit was refused.
    expect(executions).toContain(`${runId}/s2`);
    expect(await status(h, runId)).toBe("CANCELLED");
    expect((await h.persistence.getStage(runId, "s2"))?.status).toBe("CANCELLED");
  });

  it("claims nothing after a parallel group: the join is enqueued and reads every branch's output", async () => {
    const branch = (id: string) =>
      defineStage({
        id,
        name: id,
        schemas: { input: z.unknown(), output: z.object({ from: z.string() }), config: z.object({}) },
        async execute() {
          return { output: { from: id } };
        },
      });
    const join = defineStage({
      id: "join",
      name: "join",
      schemas: { input: z.record(z.string(), z.object({ from: z.string() })), output: z.unknown(), config: z.object({}) },
      async execute(ctx) {
        return { output: [ctx.input.a?.from, ctx.input.b?.from] };
      },
    });
    const workflow = new WorkflowBuilder("fan-in", "fan-in", "", z.object({}), z.unknown()).pipe(step("s1")).parallel([branch("a"), branch("b")]).pipe(join).build();
    const h = createHarness([workflow]);
    const runId = await h.start("fan-in", {});
    while (h.queue.size > 0) expect((await executeQueuedJob(h, { claimNextStage: true })).nextJob).toBeUndefined();
    expect(await status(h, runId)).toBe("COMPLETED");
    expect((await h.persistence.getRun(runId))?.output).toEqual(["a", "b"]);
  });

  it("claims nothing when the next group has several stages: they are enqueued", async () => {
    const h = createHarness([fanOut]);
    const runId = await h.start("fan", {});
    const result = await executeQueuedJob(h, { claimNextStage: true });
    expect(result.nextJob).toBeUndefined();
    expect(h.queue.size).toBe(2);
    expect((await h.persistence.getStage(runId, "left"))?.status).toBe("PENDING");
  });
});
