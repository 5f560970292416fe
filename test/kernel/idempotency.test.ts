import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, IdempotencyInProgressError, WorkflowBuilder } from "../../engine/index.js";
import type { Persistence } from "../../engine/kernel/index.js";
import { createHarness } from "../support/kernel-harness.js";
import { injectFaults, SimulatedCrash, type FaultInjector } from "../support/fault-injection.js";
import { createGate, until } from "../support/gate.js";

const echo = defineStage({
  id: "echo",
  name: "Echo",
  schemas: { input: z.object({ text: z.string() }), output: z.object({ text: z.string() }), config: z.object({}) },
  execute: async (ctx) => ({ output: ctx.input }),
});
const workflow = new WorkflowBuilder("echo", "Echo", "", z.object({ text: z.string() }), z.unknown()).pipe(echo).build();
const STALE_MS = 30_000;

const create = (key: string, text: unknown = "hi") =>
  ({ type: "run.create", idempotencyKey: key, workflowId: "echo", input: { text } }) as const;

describe("idempotency of run.create", () => {
  it("returns the same result for the same key and creates one run", async () => {
    const h = createHarness([workflow]);
    const first = await h.kernel.dispatch(create("order-42"));
    const second = await h.kernel.dispatch(create("order-42"));
    expect(second).toEqual(first);
    expect(h.persistence.runCount).toBe(1);
    expect(h.queue.size).toBe(1);
    const other = await h.kernel.dispatch(create("order-43"));
    expect(other.workflowRunId).not.toBe(first.workflowRunId);
  });

  it("throws IdempotencyInProgressError while the same key is being executed", async () => {
    const gate = createGate();
    let entered = 0;
    const h = createHarness([workflow], {
      wrap: {
        // The first transaction (the create's) waits until the test lets it through.
        persistence: (p) =>
          new Proxy(p, {
            get(target, property, receiver) {
              if (property !== "withTransaction") return Reflect.get(target, property, receiver);
              return async <T>(fn: (tx: Persistence) => Promise<T>) => {
                if (entered++ === 0) await gate.promise;
                return target.withTransaction(fn);
              };
            },
          }),
      },
    });
    const first = h.kernel.dispatch(create("busy"));
    await until(() => entered === 1);
    const error = await h.kernel.dispatch(create("busy")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdempotencyInProgressError);
    expect(error).toMatchObject({ key: "busy", commandType: "run.create" });
    gate.open();
    const result = await first;
    expect(await h.kernel.dispatch(create("busy"))).toEqual(result);
    expect(h.persistence.runCount).toBe(1);
  });

  it("reclaims a key left in progress by a crashed caller once idempotencyStaleAfterMs has passed", async () => {
    const h = createHarness([workflow], { idempotencyStaleAfterMs: STALE_MS });
    // A worker acquired the key and died before finishing.
    await h.persistence.acquireIdempotencyKey("orphan", "run.create", { now: h.clock.now(), staleAfterMs: STALE_MS });

    await expect(h.kernel.dispatch(create("orphan"))).rejects.toThrow(IdempotencyInProgressError);
    await h.clock.tick(STALE_MS - 1);
    await expect(h.kernel.dispatch(create("orphan"))).rejects.toThrow(IdempotencyInProgressError);
    await h.clock.tick(1);
    const { workflowRunId } = await h.kernel.dispatch(create("orphan"));
    expect(h.persistence.runCount).toBe(1);
    await h.drain();
    expect((await h.persistence.getRun(workflowRunId))?.status).toBe("COMPLETED");
    expect(await h.kernel.dispatch(create("orphan"))).toMatchObject({ workflowRunId });
  });

  it("releases the key when the create fails validation, so the corrected request can use it", async () => {
    const h = createHarness([workflow]);
    await expect(h.kernel.dispatch(create("fix-me", 42))).rejects.toThrow(/Invalid input/);
    const { workflowRunId } = await h.kernel.dispatch(create("fix-me", "now valid"));
    expect((await h.persistence.getRun(workflowRunId))?.input).toEqual({ text: "now valid" });
  });

  it("releases the key when the create's transaction fails, so a retry goes through at once", async () => {
    let faults: FaultInjector<Persistence> | undefined;
    const h = createHarness([workflow], { wrap: { persistence: (p) => (faults = injectFaults<Persistence>(p)).port } });
    faults!.arm({ method: "withTransaction", onCall: 1, when: "before" });
    await expect(h.kernel.dispatch(create("retry-me"))).rejects.toThrow(SimulatedCrash);
    expect(h.persistence.runCount).toBe(0);
    const { workflowRunId } = await h.kernel.dispatch(create("retry-me"));
    expect(h.persistence.runCount).toBe(1);
    expect(await h.kernel.dispatch(create("retry-me"))).toMatchObject({ workflowRunId });
  });

  it("stores the result in the create's own transaction: a crash right after the commit still replays the same run", async () => {
    let faults: FaultInjector<Persistence> | undefined;
    const h = createHarness([workflow], { wrap: { persistence: (p) => (faults = injectFaults<Persistence>(p)).port } });
    faults!.arm({ method: "withTransaction", onCall: 1, when: "after" });
    await expect(h.kernel.dispatch(create("committed"))).rejects.toThrow(SimulatedCrash);
    const replay = await h.kernel.dispatch(create("committed"));
    expect(h.persistence.runCount).toBe(1);
    expect(await h.persistence.getRun(replay.workflowRunId)).not.toBeNull();
  });
});
