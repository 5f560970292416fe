import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import type { JobExecuteResult } from "../../engine/kernel/index.js";
import type { NodeHost, NodeHostConfig } from "../../engine/hosts/node/index.js";
import { createHarness, type Harness } from "../support/kernel-harness.js";
import { createGate, until, type Gate } from "../support/gate.js";
import { createTestHost } from "../support/node-host.js";

const LEASE_MS = 1000;

const hosts: NodeHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.stop()));
});

function startHost(h: Harness, overrides: Partial<NodeHostConfig> = {}): NodeHost {
  return createTestHost(h, hosts, { staleLeaseThresholdMs: LEASE_MS, ...overrides });
}

async function runStatus(h: Harness, runId: string) {
  return (await h.persistence.getRun(runId))?.status;
}

function gatedStage(id: string, gate: Gate, executions: string[]) {
  return defineStage({
    id,
    name: id,
    schemas: { input: z.unknown(), output: z.object({ id: z.string() }), config: z.object({}) },
    async execute(ctx) {
      executions.push(`${ctx.workflowRunId}/${id}`);
      await gate.promise;
      return { output: { id } };
    },
  });
}

describe("node host", () => {
  it("executes jobs concurrently: two slow stages of a parallel group overlap", async () => {
    let running = 0;
    let maxRunning = 0;
    const bothStarted = createGate();
    const overlapping = (id: string) =>
      defineStage({
        id,
        name: id,
        schemas: { input: z.unknown(), output: z.object({}), config: z.object({}) },
        async execute() {
          running++;
          maxRunning = Math.max(maxRunning, running);
          if (running === 2) bothStarted.open();
          // One at a time, the first stage would wait here for a second that never starts; the
          // fallback only keeps such a failure from hanging the test.
          let fallback: ReturnType<typeof setTimeout> | undefined;
          await Promise.race([bothStarted.promise, new Promise<void>((resolve) => (fallback = setTimeout(resolve, 2000)))]);
          clearTimeout(fallback);
          running--;
          return { output: {} };
        },
      });
    const workflow = new WorkflowBuilder("overlap", "Overlap", "", z.object({}), z.unknown()).parallel([overlapping("left"), overlapping("right")]).build();
    const h = createHarness([workflow]);
    const host = startHost(h, { concurrency: 2 });
    await host.start();
    const runId = await h.start("overlap", {});
    await until(async () => (await runStatus(h, runId)) === "COMPLETED");
    expect(maxRunning).toBe(2);
    expect(host.stats()).toMatchObject({ jobsProcessed: 2, jobsSucceeded: 2, jobsFailed: 0 });
  });

  it("starts a new run's first stage at once, without waiting for a poll interval or a tick", async () => {
    const executions: string[] = [];
    const open = createGate();
    open.open();
    const workflow = new WorkflowBuilder("prompt", "Prompt", "", z.object({}), z.unknown()).pipe(gatedStage("first", open, executions)).build();
    const h = createHarness([workflow]);
    const host = startHost(h);
    await host.start();
    await until(() => host.stats().ticks === 1); // the start-up tick is over; the worker now idles
    const runId = await h.start("prompt", {});
    await until(async () => (await runStatus(h, runId)) === "COMPLETED", 1000);
    expect(executions).toEqual([`${runId}/first`]);
  });

  it("heartbeats a stage that runs for several lease lengths, so it runs once and its result counts", async () => {
    const executions: string[] = [];
    const gate = createGate();
    const workflow = new WorkflowBuilder("beat", "Beat", "", z.object({}), z.unknown()).pipe(gatedStage("long", gate, executions)).build();
    const h = createHarness([workflow], { leaseMs: LEASE_MS });
    const results: (JobExecuteResult | undefined)[] = [];
    const host = startHost(h, { onJobDone: (_job, result) => results.push(result) });
    await host.start();
    const runId = await h.start("beat", {});
    await until(() => executions.length === 1);
    for (let elapsed = 0; elapsed < 5 * LEASE_MS; elapsed += 250) {
      await h.clock.tick(250);
      await host.runMaintenanceTick();
    }
    gate.open();
    await until(async () => (await runStatus(h, runId)) === "COMPLETED");
    expect(executions).toEqual([`${runId}/long`]);
    expect(results).toEqual([expect.objectContaining({ outcome: "completed" })]);
    expect(results[0]?.ghost).toBeUndefined();
  });

  it("stop() waits for in-flight jobs and takes no new ones", async () => {
    const executions: string[] = [];
    const gate = createGate();
    const workflow = new WorkflowBuilder("drain", "Drain", "", z.object({}), z.unknown()).pipe(gatedStage("only", gate, executions)).build();
    const h = createHarness([workflow]);
    const host = startHost(h);
    await host.start();
    const inFlight = await h.start("drain", {});
    await until(() => executions.length === 1);

    let stopped = false;
    const stopping = host.stop().then(() => (stopped = true));
    expect(host.isRunning).toBe(false);
    const late = await h.start("drain", {});
    for (let turn = 0; turn < 50; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);

    gate.open();
    await stopping;
    expect(await runStatus(h, inFlight)).toBe("COMPLETED");
    expect(await runStatus(h, late)).toBe("RUNNING");
    expect((await h.persistence.getStage(late, "only"))?.status).toBe("PENDING");
    expect(executions).toEqual([`${inFlight}/only`]);
    expect(h.queue.size).toBe(1);
  });

  it("on SIGTERM stops taking jobs and waits for in-flight ones", async () => {
    const executions: string[] = [];
    const gate = createGate();
    const workflow = new WorkflowBuilder("sig", "Sig", "", z.object({}), z.unknown()).pipe(gatedStage("only", gate, executions)).build();
    const h = createHarness([workflow]);
    const before = new Set(process.listeners("SIGTERM"));
    const host = startHost(h, { handleSignals: true });
    await host.start();
    const added = process.listeners("SIGTERM").filter((listener) => !before.has(listener));
    expect(added).toHaveLength(1);
    const runId = await h.start("sig", {});
    await until(() => executions.length === 1);

    // Call the host's handler directly: a real signal would reach the test runner too.
    added[0]!("SIGTERM");
    expect(host.isRunning).toBe(false);
    gate.open();
    await until(async () => (await runStatus(h, runId)) === "COMPLETED");
    await host.stop();
    expect(process.listeners("SIGTERM").filter((listener) => !before.has(listener))).toEqual([]);
    await h.start("sig", {});
    for (let turn = 0; turn < 50; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(executions).toHaveLength(1);
  });
});
