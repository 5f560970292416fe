import { randomUUID } from "node:crypto";
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEventV2, Context, DynamoDBRecord, SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalAwsClients, type LocalAwsClients, type LocalAwsResources } from "../../engine/aws/local/index.js";
import type { EventSink, PublishedEvent } from "../../engine/kernel/ports.js";
import { lambdaContext } from "../../engine/local-stack/lambda-context.js";
import { LocalScheduler } from "../../engine/local-stack/local-scheduler.js";
import { RecordingEventSink } from "../../engine/local-stack/recording-event-sink.js";
import { createApiHandler } from "../../lambdas/api.js";
import { createOutboxPublisherHandler } from "../../lambdas/outbox-publisher.js";
import { createEngineRuntime, type EngineRuntime } from "../../lambdas/runtime/engine-runtime.js";
import { createWorkerHandler } from "../../lambdas/worker.js";
import { provisionIsolatedResources, stackRegistry } from "./support.js";

// The handlers' INFO logs would bury the test report; warnings about real trouble still show.
process.env.POWERTOOLS_LOG_LEVEL = "ERROR";

let resources: LocalAwsResources;
let clients: LocalAwsClients;

beforeAll(async () => {
  resources = await provisionIsolatedResources();
  clients = createLocalAwsClients(resources);
});
afterAll(() => clients?.destroy());

function runtimeWith(eventSink: EventSink): EngineRuntime {
  return createEngineRuntime({
    registry: stackRegistry,
    dynamo: clients.dynamo,
    sqs: clients.sqs,
    s3: clients.s3,
    tableName: resources.tableName,
    bucketName: resources.bucketName,
    queueUrls: resources.queueUrls,
    eventSink,
    scheduler: new LocalScheduler(async () => undefined),
  });
}

const context = (name: string): Context => lambdaContext(name, 60_000, resources.region);

async function startShout(runtime: EngineRuntime, text: string): Promise<string> {
  const { workflowRunId } = await runtime.kernel.dispatch({ type: "run.create", idempotencyKey: randomUUID(), workflowId: "shout", input: { text } });
  return workflowRunId;
}

/** Receives what is on the queue as the records Lambda's SQS event source would deliver. */
async function receiveRecords(queueUrl: string, count: number): Promise<SQSRecord[]> {
  const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
  const messages: Message[] = [];
  for (let i = 0; i < 20 && messages.length < count; i++) {
    const { Messages = [] } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ["All"] }));
    messages.push(...Messages);
  }
  return messages.map((m) => ({
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body!,
    attributes: {
      ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? "1",
      SentTimestamp: m.Attributes?.SentTimestamp ?? "0",
      SenderId: "test",
      ApproximateFirstReceiveTimestamp: "0",
      MessageGroupId: m.Attributes?.MessageGroupId,
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: Attributes!.QueueArn!,
    awsRegion: resources.region,
  }));
}

describe("the worker handler on SQS", () => {
  it("reports only the poison message of a batch as failed and executes the other jobs", async () => {
    const runtime = runtimeWith(new RecordingEventSink());
    const runs = [await startShout(runtime, "one"), await startShout(runtime, "two")];
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.queueUrls.normal, MessageBody: "this is not a job", MessageGroupId: "poison", MessageDeduplicationId: randomUUID() }));
    const records = await receiveRecords(resources.queueUrls.normal, 3);
    expect(records).toHaveLength(3);
    const poison = records.find((r) => r.body === "this is not a job")!;

    const response = await createWorkerHandler({ registry: stackRegistry, runtime })({ Records: records }, context("worker"));

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: poison.messageId }]);
    for (const runId of runs) expect((await runtime.persistence.getStage(runId, "shout"))?.status).toBe("COMPLETED");
  });

  it("drops the job of a cancelled run without running its stage or failing the message", async () => {
    const runtime = runtimeWith(new RecordingEventSink());
    const runId = await startShout(runtime, "cancel me");
    await runtime.kernel.dispatch({ type: "run.cancel", workflowRunId: runId });
    const records = (await receiveRecords(resources.queueUrls.normal, 1)).filter((r) => r.body.includes(runId));

    const response = await createWorkerHandler({ registry: stackRegistry, runtime })({ Records: records }, context("worker"));

    expect(response.batchItemFailures).toEqual([]);
    expect((await runtime.persistence.getStage(runId, "shout"))?.status).toBe("CANCELLED");
  });
});

describe("the outbox publisher on DynamoDB Streams", () => {
  /** Stream records (INSERT of EVENT items) as Lambda delivers them, for the given (run, sequence) pairs. */
  function streamRecords(pairs: [string, number][]): DynamoDBRecord[] {
    return pairs.map(([runId, sequence], i) => ({
      eventID: `e${i}`,
      eventName: "INSERT",
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: resources.region,
      dynamodb: { Keys: { pk: { S: `RUN#${runId}` }, sk: { S: `EVENT#${String(sequence).padStart(10, "0")}` } }, SequenceNumber: String(1000 + i), StreamViewType: "NEW_IMAGE" },
      eventSourceARN: "arn:aws:dynamodb:local:000000000000:table/t/stream/x",
    }));
  }

  async function twoRunsWithEvents(runtime: EngineRuntime) {
    const a = await startShout(runtime, "alpha");
    const b = await startShout(runtime, "beta");
    const countOf = async (id: string) => (await runtime.persistence.getOutboxEventsByRun(id)).length;
    return { a, b, aCount: await countOf(a), bCount: await countOf(b) };
  }

  it("publishes each run's events in sequence order from a batch whose runs are interleaved", async () => {
    const sink = new RecordingEventSink();
    const runtime = runtimeWith(sink);
    const { a, b, aCount, bCount } = await twoRunsWithEvents(runtime);
    expect(aCount).toBeGreaterThan(1);
    const interleaved = streamRecords([
      [b, 1],
      [a, 1],
      [b, 2],
      [a, 2],
      ...Array.from({ length: bCount - 2 }, (_, i): [string, number] => [b, i + 3]),
      ...Array.from({ length: aCount - 2 }, (_, i): [string, number] => [a, i + 3]),
    ]);

    const response = await createOutboxPublisherHandler({ registry: stackRegistry, runtime })({ Records: interleaved }, context("outbox-publisher"));

    expect(response.batchItemFailures).toEqual([]);
    const sequencesOf = (runId: string) => sink.events.filter((e) => e.workflowRunId === runId).map((e) => e.sequence);
    expect(sequencesOf(a)).toEqual(Array.from({ length: aCount }, (_, i) => i + 1));
    expect(sequencesOf(b)).toEqual(Array.from({ length: bCount }, (_, i) => i + 1));
    expect((await runtime.persistence.getOutboxEventsByRun(a)).every((e) => e.publishedAt !== null)).toBe(true);
  });

  it("reports the first record of a run whose events the bus refused, and still publishes the other run", async () => {
    const delivered: PublishedEvent[] = [];
    let refusedRun = "";
    const flakySink: EventSink = {
      async emit(event) {
        if (event.workflowRunId === refusedRun) throw new Error("ThrottlingException");
        delivered.push(event);
      },
    };
    const runtime = runtimeWith(flakySink);
    const { a, b } = await twoRunsWithEvents(runtime);
    refusedRun = b;
    const records = streamRecords([
      [a, 1],
      [b, 1],
      [a, 2],
      [b, 2],
    ]);

    const response = await createOutboxPublisherHandler({ registry: stackRegistry, runtime })({ Records: records }, context("outbox-publisher"));

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1].dynamodb!.SequenceNumber }]);
    expect(delivered.every((e) => e.workflowRunId === a)).toBe(true);
    expect(delivered.length).toBeGreaterThan(0);
    expect((await runtime.persistence.getOutboxEventsByRun(b)).every((e) => e.publishedAt === null)).toBe(true);
  });
});

describe("the api handler on API Gateway events", () => {
  const event = (method: string, path: string, body?: string): APIGatewayProxyEventV2 => ({
    version: "2.0",
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: "",
    headers: { "content-type": "application/json" },
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: "000000000000",
      apiId: "api",
      domainName: "localhost",
      domainPrefix: "localhost",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" },
      requestId: randomUUID(),
      routeKey: `${method} ${path}`,
      stage: "$default",
      time: "",
      timeEpoch: 0,
    },
  });

  it("starts a run for a good request and answers bad ones with 4xx JSON errors", async () => {
    const handler = createApiHandler({ registry: stackRegistry, runtime: runtimeWith(new RecordingEventSink()) });

    const created = await handler(event("POST", "/runs", JSON.stringify({ workflowId: "shout", input: { text: "api" } })), context("api"));
    expect(created.statusCode).toBe(201);
    const { workflowRunId } = JSON.parse(created.body!) as { workflowRunId: string };
    expect((await handler(event("GET", `/runs/${workflowRunId}`), context("api"))).statusCode).toBe(200);

    for (const [request, status] of [
      [event("POST", "/runs", "{"), 400],
      [event("POST", "/runs", JSON.stringify({ workflowId: "shout", input: { text: 3 } })), 400],
      [event("POST", "/runs", JSON.stringify({ workflowId: "unknown", input: {} })), 404],
      [event("POST", `/runs/${workflowRunId}/rerun`, JSON.stringify({ fromStageId: "count" })), 409],
      [event("GET", "/nope"), 404],
    ] as const) {
      const response = await handler(request, context("api"));
      expect(response.statusCode).toBe(status);
      expect(JSON.parse(response.body!)).toHaveProperty("error.code");
    }
  });
});
