import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoWorkflowPersistence } from "../../engine/aws/index.js";
import { RunGate } from "../../engine/aws/dynamo/run-gate.js";
import { createEngineTable } from "../../engine/aws/local/index.js";
import { PersistenceConflictError } from "../../engine/kernel/errors.js";
import type { Persistence } from "../../engine/kernel/ports.js";
import { localClients, uniqueName } from "../support/emulators/inject.js";

const clients = localClients();
const tableName = uniqueName("rungate");
beforeAll(() => createEngineTable(clients.dynamo, tableName));
afterAll(() => clients.destroy());

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("RunGate", () => {
  it("lets the transactions of one run take turns and others pass", async () => {
    const gate = new RunGate(10_000);
    const order: string[] = [];
    const leaveFirst = await gate.enter("RUN#a");
    const second = gate.enter("RUN#a").then((leave) => (order.push("second"), leave));
    const other = gate.enter("RUN#b").then((leave) => (order.push("other run"), leave));
    await tick();
    expect(order).toEqual(["other run"]);
    leaveFirst();
    (await second)();
    (await other)();
    expect(order).toEqual(["other run", "second"]);
  });

  it("stops waiting after maxWaitMs, so a turn that is never handed on cannot block a run", async () => {
    const gate = new RunGate(30);
    await gate.enter("RUN#a"); // never left
    const started = Date.now();
    const leave = await gate.enter("RUN#a");
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    leave();
  });
});

async function createRun(persistence: Persistence): Promise<string> {
  const id = randomUUID();
  await persistence.createRun({ id, workflowId: "wf", workflowName: "wf", workflowType: "t", status: "RUNNING", input: {}, config: {}, priority: 5 });
  return id;
}

/** Reads the run, waits a little (as a commit that does work would), and updates it under its version. */
function bumpRun(persistence: Persistence, id: string) {
  return persistence.withTransaction(async (tx) => {
    const run = await tx.getRun(id);
    await tick();
    await tx.updateRun(id, { expectedVersion: run!.version, currentGroup: run!.currentGroup + 1 });
  });
}

describe("DynamoDB persistence with the run gate", () => {
  it("runs concurrent read-decide-write transactions of one run one after the other instead of conflicting", async () => {
    const persistence = createDynamoWorkflowPersistence({ client: clients.document, tableName });
    const id = await createRun(persistence);
    await Promise.all(Array.from({ length: 5 }, () => bumpRun(persistence, id)));
    expect((await persistence.getRun(id))?.currentGroup).toBe(5);
  });

  it("still refuses a stale write when the gate is off (the conditions decide, not the gate)", async () => {
    const persistence = createDynamoWorkflowPersistence({ client: clients.document, tableName, runGateMaxWaitMs: 0 });
    const id = await createRun(persistence);
    const results = await Promise.allSettled([bumpRun(persistence, id), bumpRun(persistence, id)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(rejected?.reason).toBeInstanceOf(PersistenceConflictError);
    expect((await persistence.getRun(id))?.currentGroup).toBe(1);
  });

  it("hands the turn on when a transaction fails, also while its entry was still pending", async () => {
    const persistence = createDynamoWorkflowPersistence({ client: clients.document, tableName, runGateMaxWaitMs: 5_000 });
    const id = await createRun(persistence);
    const holder = bumpRun(persistence, id);
    // Fails (another partition's read throws) while its getRun still waits for the holder's turn.
    const failing = persistence.withTransaction(async (tx) => {
      await Promise.all([tx.getRun(id), Promise.reject(new Error("boom"))]);
    });
    await expect(failing).rejects.toThrow("boom");
    await holder;
    const started = Date.now();
    await bumpRun(persistence, id);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await persistence.getRun(id))?.currentGroup).toBe(2);
  });
});
