import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { createEventBridgeEventSink } from "../../engine/aws/index.js";
import type { PublishedEvent } from "../../engine/kernel/ports.js";

function event(runId: string, sequence: number, extra: Record<string, unknown> = {}): PublishedEvent {
  return {
    type: "stage:completed",
    workflowRunId: runId,
    timestamp: "2025-01-01T00:00:00.000Z",
    stageId: `s${sequence}`,
    stageName: "Stage",
    duration: 1,
    attempt: 1,
    cost: 0,
    tokens: 0,
    eventId: `${runId}:${sequence}`,
    sequence,
    ...extra,
  } as PublishedEvent;
}

describe("EventBridge event sink (mocked client)", () => {
  const eventBridge = mockClient(EventBridgeClient);
  afterAll(() => eventBridge.restore());

  it("sends at most 10 entries per PutEvents with source stageflow and the event type as detail-type", async () => {
    eventBridge.reset();
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: `id-${i}` })),
    }));
    const sink = createEventBridgeEventSink({ client: new EventBridgeClient({ region: "us-east-1" }), eventBusName: "bus" });
    const events = Array.from({ length: 23 }, (_, i) => event("run-a", i + 1));
    const result = await sink.emitBatch(events);

    expect(result.failed).toEqual([]);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    const first = calls[0].args[0].input.Entries![0];
    expect(first.Source).toBe("stageflow");
    expect(first.DetailType).toBe("stage:completed");
    expect(first.EventBusName).toBe("bus");
    expect(JSON.parse(first.Detail!)).toMatchObject({ eventId: "run-a:1", sequence: 1 });
  });

  it("keeps each request under 256 KB by splitting on size, not only on count", async () => {
    eventBridge.reset();
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map(() => ({ EventId: "x" })),
    }));
    const sink = createEventBridgeEventSink({ client: new EventBridgeClient({ region: "us-east-1" }) });
    const big = "x".repeat(100 * 1024);
    await sink.emitBatch([1, 2, 3, 4].map((i) => event("run-b", i, { note: big })));
    const sizes = eventBridge.commandCalls(PutEventsCommand).map((c) =>
      c.args[0].input.Entries!.reduce((sum, e) => sum + Buffer.byteLength(e.Detail!), 0),
    );
    expect(sizes.length).toBe(2);
    for (const size of sizes) expect(size).toBeLessThan(256 * 1024);
  });

  it("retries only the entries that failed and reports nothing once they succeed", async () => {
    eventBridge.reset();
    let call = 0;
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
      call++;
      return {
        FailedEntryCount: call === 1 ? 1 : 0,
        Entries: input.Entries.map((_, i) =>
          call === 1 && i === 1 ? { ErrorCode: "ThrottlingException", ErrorMessage: "slow down" } : { EventId: "ok" },
        ),
      };
    });
    const sink = createEventBridgeEventSink({ client: new EventBridgeClient({ region: "us-east-1" }), retryBaseDelayMs: 1 });
    const result = await sink.emitBatch([event("run-c", 1), event("run-d", 1), event("run-e", 1)]);
    expect(result.failed).toEqual([]);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1].args[0].input.Entries!.map((e) => JSON.parse(e.Detail!).eventId)).toEqual(["run-d:1"]);
  });

  it("reports entries that keep failing, and holds back later events of the same run to keep order", async () => {
    eventBridge.reset();
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((e) =>
        JSON.parse(e.Detail!).eventId === "run-f:1" ? { ErrorCode: "InternalFailure", ErrorMessage: "boom" } : { EventId: "ok" },
      ),
    }));
    const sink = createEventBridgeEventSink({ client: new EventBridgeClient({ region: "us-east-1" }), retryBaseDelayMs: 1, maxRetries: 1 });
    const events = [event("run-f", 1), ...Array.from({ length: 10 }, (_, i) => event("run-g", i + 1)), event("run-f", 2)];
    const result = await sink.emitBatch(events);
    expect(result.failed.map((f) => f.index)).toEqual([0, 11]);
    expect(result.failed[0].error).toContain("InternalFailure");
    expect(result.failed[1].error).toContain("held back");
  });

  it("reports a request that fails as a whole as every entry failed", async () => {
    eventBridge.reset();
    eventBridge.on(PutEventsCommand).rejects(Object.assign(new Error("service unavailable"), { name: "ServiceUnavailable" }));
    const sink = createEventBridgeEventSink({ client: new EventBridgeClient({ region: "us-east-1" }), retryBaseDelayMs: 1, maxRetries: 1 });
    const result = await sink.emitBatch([event("run-h", 1), event("run-i", 1)]);
    expect(result.failed.map((f) => f.index)).toEqual([0, 1]);
    await expect(sink.emit(event("run-j", 1))).rejects.toThrow(/did not accept event run-j:1/);
  });

  it("refuses an event above 256 KB without sending it", async () => {
    eventBridge.reset();
    const sink = createEventBridgeEventSink({ client: new EventBridgeClient({ region: "us-east-1" }) });
    const result = await sink.emitBatch([event("run-k", 1, { note: "x".repeat(300 * 1024) })]);
    expect(result.failed[0].error).toMatch(/256 KB/);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});

describe("EventBridge event sink (real SDK against a local PutEvents endpoint)", () => {
  let server: Server;
  let endpoint: string;
  const requests: { target: string | undefined; body: { Entries: Record<string, unknown>[] } }[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { Entries: Record<string, unknown>[] };
        requests.push({ target: req.headers["x-amz-target"] as string | undefined, body });
        res.setHeader("content-type", "application/x-amz-json-1.1");
        res.end(JSON.stringify({ FailedEntryCount: 0, Entries: body.Entries.map((_, i) => ({ EventId: `evt-${i}` })) }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("serializes PutEvents as EventBridge expects it on the wire", async () => {
    const client = new EventBridgeClient({ region: "us-east-1", endpoint, credentials: { accessKeyId: "a", secretAccessKey: "b" } });
    const sink = createEventBridgeEventSink({ client, eventBusName: "stageflow-bus" });
    const result = await sink.emitBatch([event("run-wire", 1), event("run-wire", 2)]);
    client.destroy();

    expect(result.failed).toEqual([]);
    expect(requests).toHaveLength(1);
    expect(requests[0].target).toBe("AWSEvents.PutEvents");
    const [first] = requests[0].body.Entries;
    expect(first).toMatchObject({ Source: "stageflow", DetailType: "stage:completed", EventBusName: "stageflow-bus" });
    expect(JSON.parse(first.Detail as string)).toMatchObject({ eventId: "run-wire:1", workflowRunId: "run-wire" });
    expect(typeof first.Time).toBe("number");
  });
});
