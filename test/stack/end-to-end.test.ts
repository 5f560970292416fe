import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, StageflowApiError } from "../../engine/client/index.js";
import { startLocalStack, type LocalStack } from "../../engine/local-stack/index.js";
import { SAMPLE_DOCUMENT } from "../../examples/document-processing/workflow.js";
import { eventually, provisionIsolatedResources, stackRegistry } from "./support.js";

describe("the local stack, end to end through the HTTP API", () => {
  let stack: LocalStack;
  let client: ReturnType<typeof createClient>;

  beforeAll(async () => {
    stack = await startLocalStack({ registry: stackRegistry, resources: await provisionIsolatedResources(), maintenanceIntervalMs: 500 });
    client = createClient({ endpoint: stack.url, credentials: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("runs the example workflow to completion: output, cost and tokens from GET, events in order on the API and the bus", async () => {
    const { workflowRunId, status } = await client.startRun("document-processing", SAMPLE_DOCUMENT);
    expect(status).toBe("RUNNING");

    const run = await client.waitForRun(workflowRunId, { timeoutMs: 60_000, initialDelayMs: 100, maxDelayMs: 500 });

    expect(run.status).toBe("COMPLETED");
    expect(run.output).toMatchObject({ title: SAMPLE_DOCUMENT.title, gists: expect.any(Array) });
    expect(run.totalCost).toBeGreaterThan(0);
    expect(run.totalTokens).toBeGreaterThan(0);
    const stages = await client.getStages(workflowRunId);
    expect(stages.every((s) => s.status === "COMPLETED")).toBe(true);

    const { events } = await client.getEvents(workflowRunId, { limit: 1000 });
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["stage:suspended", "workflow:suspended", "workflow:completed"]));

    // The bus gets them through the DynamoDB stream: at least once, first deliveries in order.
    const delivered = await eventually(
      async () => stack.events.filter((e) => e.workflowRunId === workflowRunId),
      (list) => new Set(list.map((e) => e.eventId)).size === events.length,
    );
    const firstDeliveries = delivered.filter((e, i) => delivered.findIndex((d) => d.eventId === e.eventId) === i);
    expect(firstDeliveries.map((e) => e.sequence)).toEqual(events.map((e) => e.sequence));
  });

  it("cancels a run whose stage is executing, and the run stays cancelled", async () => {
    const { workflowRunId } = await client.startRun("slow", { ms: 3_000 });
    await eventually(() => client.getStages(workflowRunId), (stages) => stages.some((s) => s.stageId === "wait" && s.status === "RUNNING"));

    const cancelled = await client.cancelRun(workflowRunId, "test");

    expect(cancelled.cancelled).toBe(true);
    const run = await client.waitForRun(workflowRunId, { timeoutMs: 10_000, initialDelayMs: 100 });
    expect(run.status).toBe("CANCELLED");
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    expect((await client.getRun(workflowRunId)).status).toBe("CANCELLED");
    expect((await client.getStages(workflowRunId)).find((s) => s.stageId === "after")?.status ?? "not created").not.toBe("COMPLETED");
  });

  it("reruns a completed run from a stage through the API", async () => {
    const { workflowRunId } = await client.startRun("shout", { text: "again" });
    await client.waitForRun(workflowRunId, { timeoutMs: 30_000, initialDelayMs: 100 });

    const rerun = await client.rerunFrom(workflowRunId, "count");

    expect(rerun.fromStageId).toBe("count");
    const run = await client.waitForRun(workflowRunId, { timeoutMs: 30_000, initialDelayMs: 100 });
    expect(run).toMatchObject({ status: "COMPLETED", output: { loud: "AGAIN!", length: 6 } });
    const types = (await client.getEvents(workflowRunId, { limit: 1000 })).events.map((e) => e.type);
    expect(types).toContain("workflow:rerun");
    expect(types.at(-1)).toBe("workflow:completed");
  });

  it("answers bad requests with 4xx JSON errors, through the client and raw HTTP", async () => {
    const invalid = await client.startRun("shout", { text: "" }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(StageflowApiError);
    expect(invalid).toMatchObject({ status: 400, code: "ValidationError", issues: [{ path: ["input", "text"] }] });
    await expect(client.startRun("nope", {})).rejects.toMatchObject({ status: 404, code: "WorkflowNotFound" });
    await expect(client.getRun("no-such-run")).rejects.toMatchObject({ status: 404, code: "RunNotFound" });

    const malformed = await fetch(`${stack.url}/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: "{oops" });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: "MalformedJson" } });
  });

  it("lists runs by workflow and status across pages", async () => {
    for (const text of ["p1", "p2", "p3"]) await client.waitForRun((await client.startRun("shout", { text })).workflowRunId, { initialDelayMs: 100 });
    const first = await client.listRuns({ workflowId: "shout", status: "COMPLETED", limit: 2 });
    expect(first.runs).toHaveLength(2);
    expect(first.nextCursor).toBeDefined();
    const second = await client.listRuns({ workflowId: "shout", status: "COMPLETED", limit: 2, cursor: first.nextCursor });
    expect(second.runs.length).toBeGreaterThan(0);
    expect(second.runs.map((r) => r.id)).not.toContain(first.runs[0].id);
  });
});
