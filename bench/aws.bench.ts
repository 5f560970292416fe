/**
 * `npm run bench:aws`: what one stage execution costs on AWS, measured on DynamoDB Local +
 * fauxqs. Two node-host workers (SQS FIFO transport, DynamoDB persistence, S3 blobs, EventBridge
 * sink against a local PutEvents endpoint) run 100 runs of a 10-stage linear workflow and 20 runs
 * with a parallel group of 20, with no-op stages returning 1 KB. Every request is counted per
 * service and operation, DynamoDB capacity as reported with ReturnConsumedCapacity=TOTAL, then
 * priced with bench/aws-prices.ts. Figures, not assertions.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { defineStage, WorkflowBuilder } from "../engine/index.js";
import type { Workflow } from "../engine/core/workflow.js";
import { createKernel } from "../engine/kernel/index.js";
import { NoopScheduler } from "../engine/kernel/testing/index.js";
import { createNodeHost } from "../engine/hosts/node/index.js";
import {
  createDynamoWorkflowPersistence,
  createEventBridgeEventSink,
  createS3BlobStore,
  createSqsJobTransport,
} from "../engine/aws/index.js";
import { createLocalAwsClients, startLocalAws, stopLocalAws, type LocalAwsClients } from "../engine/aws/local/index.js";
import { AWS_PRICES } from "./aws-prices.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

// Request meter ---------------------------------------------------------------------------------

interface Meter {
  requests: Map<string, number>;
  /** Capacity units by DynamoDB operation. */
  units: Map<string, number>;
  readUnits: number;
  writeUnits: number;
  /** Round-trip times (ms) of successful requests by service:operation. */
  latency: Map<string, number[]>;
}

const meter: Meter = { requests: new Map(), units: new Map(), readUnits: 0, writeUnits: 0, latency: new Map() };
const count = (key: string, n = 1) => meter.requests.set(key, (meter.requests.get(key) ?? 0) + n);

interface Capacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

const WRITE_OPS = /Put|Update|Delete|TransactWrite|BatchWrite/;

/** Counts every request of a client; on DynamoDB also asks for and adds up consumed capacity. */
function instrument(service: string, client: { middlewareStack: { add: (...args: never[]) => void } }): void {
  const add = client.middlewareStack.add as unknown as (
    mw: (next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>, context: { commandName?: string }) => (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>,
    options: { step: string; name: string },
  ) => void;
  add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? "Unknown").replace(/Command$/, "");
      if (service === "dynamodb") args.input.ReturnConsumedCapacity = "TOTAL";
      let result: { output: Record<string, unknown> };
      const startedAt = performance.now();
      try {
        result = await next(args);
        const key = `${service}:${operation}`;
        meter.latency.set(key, [...(meter.latency.get(key) ?? []), performance.now() - startedAt]);
      } catch (error) {
        // Failed requests (conditional check failures, cancelled transactions) are billed too.
        count(`${service}:${operation} (failed)`);
        throw error;
      }
      count(`${service}:${operation}`);
      if (service === "dynamodb") {
        const consumed = result.output.ConsumedCapacity as Capacity | Capacity[] | undefined;
        for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
          const total = c.CapacityUnits ?? 0;
          meter.units.set(operation, (meter.units.get(operation) ?? 0) + total);
          if (c.ReadCapacityUnits || c.WriteCapacityUnits) {
            meter.readUnits += c.ReadCapacityUnits ?? 0;
            meter.writeUnits += c.WriteCapacityUnits ?? 0;
          } else if (WRITE_OPS.test(operation)) meter.writeUnits += total;
          else meter.readUnits += total;
        }
      }
      return result;
    },
    { step: "initialize", name: `benchMeter-${service}` },
  );
}

function resetMeter(): void {
  meter.requests.clear();
  meter.units.clear();
  meter.latency.clear();
  meter.readUnits = 0;
  meter.writeUnits = 0;
}

// Workflows -------------------------------------------------------------------------------------

const KB = "k".repeat(1000);

/**
 * When each stage's code started and returned (`<runId>/<stageId>`, ms on one monotonic clock:
 * both workers run in this process). Stage-to-stage time is what a user waits between one
 * stage's code returning and the next one's starting: the commit, the hand-over or queue hop,
 * and the claim, whatever the timestamps stored on the records say.
 */
const stageTimes = new Map<string, { start: number; end: number }>();

const noop = (id: string) =>
  defineStage({
    id,
    name: id,
    schemas: { input: z.object({}).passthrough(), output: z.object({ data: z.string() }), config: z.object({}) },
    async execute(ctx) {
      const start = performance.now();
      stageTimes.set(`${ctx.workflowRunId}/${id}`, { start, end: start });
      const output = { data: KB };
      stageTimes.get(`${ctx.workflowRunId}/${id}`)!.end = performance.now();
      return { output };
    },
  });

function linear(stages: number): Workflow {
  let builder = new WorkflowBuilder("linear-10", "Linear", "bench", z.object({}).passthrough(), z.object({ data: z.string() })).pipe(noop("l1"));
  for (let i = 2; i <= stages; i++) builder = builder.pipe(noop(`l${i}`)) as unknown as typeof builder;
  return builder.build() as unknown as Workflow;
}

function fanOut(width: number): Workflow {
  return new WorkflowBuilder("parallel-20", "Parallel", "bench", z.object({}).passthrough(), z.object({}).passthrough())
    .parallel(Array.from({ length: width }, (_, i) => noop(`p${i + 1}`)) as never)
    .build() as unknown as Workflow;
}

// Local PutEvents endpoint ----------------------------------------------------------------------

async function startPutEventsEndpoint(): Promise<{ endpoint: string; close(): Promise<void>; events(): number }> {
  let events = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { Entries: unknown[] };
      events += body.Entries.length;
      res.setHeader("content-type", "application/x-amz-json-1.1");
      res.end(JSON.stringify({ FailedEntryCount: 0, Entries: body.Entries.map((_, i) => ({ EventId: String(i) })) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    events: () => events,
  };
}

// Scenario --------------------------------------------------------------------------------------

/** Jobs each node-host worker runs at once. */
const CONCURRENCY = 8;

interface ScenarioResult {
  name: string;
  runs: number;
  stageExecutions: number;
  requests: Map<string, number>;
  units: Map<string, number>;
  readUnits: number;
  writeUnits: number;
  latency: Map<string, number[]>;
  eventsPublished: number;
  gapsMs: number[];
  wallMs: number;
}

async function runScenario(
  name: string,
  workflow: Workflow,
  runs: number,
  stagesPerRun: number,
  env: {
    clients: LocalAwsClients;
    /** Uninstrumented clients for the benchmark's own polling, so it is not counted. */
    quietClients: LocalAwsClients;
    tableName: string;
    bucketName: string;
    queueUrls: { high: string; normal: string; low: string };
    eventsEndpoint: string;
  },
): Promise<ScenarioResult> {
  const eventBridge = new EventBridgeClient({ region: "us-east-1", endpoint: env.eventsEndpoint, credentials: { accessKeyId: "l", secretAccessKey: "l" } });
  instrument("eventbridge", eventBridge);
  const blobStore = createS3BlobStore({ client: env.clients.s3, bucket: env.bucketName });
  const persistence = createDynamoWorkflowPersistence({ client: env.clients.document, tableName: env.tableName, blobStore });
  const registry = { getWorkflow: (id: string) => (id === workflow.id ? workflow : undefined) };
  const workers = [1, 2].map((n) => {
    // maxInFlight = the host's concurrency: one receive fetches a message for every free slot.
    const transport = createSqsJobTransport({ client: env.clients.sqs, queueUrls: env.queueUrls, waitTimeSeconds: 1, maxInFlight: CONCURRENCY });
    const kernel = createKernel({
      persistence,
      blobStore,
      jobTransport: transport,
      eventSink: createEventBridgeEventSink({ client: eventBridge }),
      scheduler: new NoopScheduler(),
      clock: { now: () => new Date() },
      registry,
      workerId: `bench-${n}`,
    });
    const host = createNodeHost({
      kernel,
      jobTransport: transport,
      workerId: `bench-${n}`,
      concurrency: CONCURRENCY,
      jobPollIntervalMs: 5,
      orchestrationIntervalMs: 60_000,
      handleSignals: false,
      onError: (error) => console.error(error),
    });
    return { kernel, host };
  });

  resetMeter();
  const started = Date.now();
  await Promise.all(workers.map((w) => w.host.start()));
  const runIds: string[] = [];
  for (let i = 0; i < runs; i++) {
    const { workflowRunId } = await workers[i % 2].kernel.dispatch({ type: "run.create", idempotencyKey: `${name}-${started}-${i}`, workflowId: workflow.id, input: {} });
    runIds.push(workflowRunId);
  }
  // Wait for completion without reading through the metered client.
  const quiet = createDynamoWorkflowPersistence({ client: env.quietClients.document, tableName: env.tableName });
  for (;;) {
    const runsNow = await Promise.all(runIds.map((id) => quiet.getRun(id)));
    if (runsNow.every((r) => r && ["COMPLETED", "FAILED", "CANCELLED"].includes(r.status))) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // Let the post-job outbox flushes finish, then stop.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await Promise.all(workers.map((w) => w.host.stop()));
  const wallMs = Date.now() - started;
  // Publish what the after-job flushes left (through the metered clients: publishing is part of
  // the cost), so every scenario pays for exactly its own events and none spill into the next.
  for (let round = 0; round < 50; round++) {
    const { published, failed } = await workers[0].kernel.dispatch({ type: "outbox.flush", maxEvents: 1000 });
    const left = (await quiet.getUnpublishedOutboxEvents(10)).length;
    if (left === 0 && failed === 0) break;
    if (published === 0) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const snapshot = { requests: new Map(meter.requests), units: new Map(meter.units), readUnits: meter.readUnits, writeUnits: meter.writeUnits, latency: new Map(meter.latency) };

  // From the last stage of one group returning to the first stage of the next starting.
  const gapsMs: number[] = [];
  for (const id of runIds) {
    for (let group = 1; group < workflow.executionGroups.length; group++) {
      const times = (g: number) => workflow.getStagesInExecutionGroup(g).map((stage) => stageTimes.get(`${id}/${stage.id}`));
      const previous = times(group - 1);
      const next = times(group);
      if (previous.some((t) => !t) || next.some((t) => !t)) continue;
      gapsMs.push(Math.min(...next.map((t) => t!.start)) - Math.max(...previous.map((t) => t!.end)));
    }
  }
  await logItemSizes(env.quietClients, env.tableName, runIds[0]);
  eventBridge.destroy();
  return {
    name,
    runs,
    stageExecutions: runs * stagesPerRun,
    ...snapshot,
    eventsPublished: snapshot.requests.get("eventbridge:PutEvents") ?? 0,
    gapsMs,
    wallMs,
  };
}

/**
 * Sizes of one run's items as stored (DynamoDB's size: attribute names + values, roughly the JSON
 * length). Writes are billed per started KB of the larger of the old and new item, twice inside a
 * transaction, so an item just over a KB boundary costs a unit more on every write.
 */
async function logItemSizes(clients: LocalAwsClients, tableName: string, runId: string | undefined): Promise<void> {
  if (!runId) return;
  const { Items = [] } = await clients.document.send(
    new QueryCommand({ TableName: tableName, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": `RUN#${runId}` } }),
  );
  const byKind = new Map<string, number[]>();
  for (const item of Items) {
    const kind = String(item.sk).replace(/#.*$/, "#") || String(item.sk);
    const kindName = String(item.sk).startsWith("#") ? String(item.sk) : kind;
    byKind.set(kindName, [...(byKind.get(kindName) ?? []), Buffer.byteLength(JSON.stringify(item), "utf8")]);
  }
  const parts = [...byKind].map(([kind, sizes]) => `${kind} ${sizes.length}x max ${Math.max(...sizes)} B`);
  console.log(`  Item sizes of one run (JSON bytes): ${parts.join(", ")}`);
}

// Report ----------------------------------------------------------------------------------------

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function sum(requests: Map<string, number>, prefix: string): number {
  let total = 0;
  for (const [key, n] of requests) if (key.startsWith(prefix)) total += n;
  return total;
}

function report(result: ScenarioResult, puttedEvents: number): { overheadPerMillion: number } {
  const per = (n: number) => n / result.stageExecutions;
  const dynamoWrite = per(result.writeUnits) * AWS_PRICES.dynamodb.perMillionWriteRequestUnits;
  const dynamoRead = per(result.readUnits) * AWS_PRICES.dynamodb.perMillionReadRequestUnits;
  const sqsRequests = sum(result.requests, "sqs:");
  const sqs = per(sqsRequests) * AWS_PRICES.sqs.perMillionFifoRequests;
  const s3Put = sum(result.requests, "s3:Put") + sum(result.requests, "s3:List") + sum(result.requests, "s3:CreateMultipart") + sum(result.requests, "s3:UploadPart") + sum(result.requests, "s3:CompleteMultipart");
  const s3Get = sum(result.requests, "s3:Get") + sum(result.requests, "s3:Head");
  const s3 = per(s3Put) * AWS_PRICES.s3.perMillionPutListRequests + per(s3Get) * AWS_PRICES.s3.perMillionGetRequests;
  const events = per(puttedEvents) * AWS_PRICES.eventBridge.perMillionCustomEvents;
  // In the Lambda deployment every delivered job is one worker invocation (batch size 1).
  const deliveredJobs = result.stageExecutions;
  const lambda = per(deliveredJobs) * AWS_PRICES.lambda.perMillionRequests;
  const overhead = dynamoWrite + dynamoRead + sqs + events + lambda;
  // Index writes are included: DynamoDB Local's TOTAL capacity counts them (a 300-byte put
  // with a gsi1 entry reports 2 units, removing the entry in an update 2 as well).
  const fmt = (n: number) => `$${n.toFixed(3)}`;

  console.log(`\n## ${result.name}: ${result.stageExecutions} stage executions in ${(result.wallMs / 1000).toFixed(1)} s`);
  console.log("Requests per stage execution:");
  for (const [key, n] of [...result.requests].sort()) console.log(`  ${key.padEnd(36)} ${per(n).toFixed(3)}`);
  console.log(`  DynamoDB capacity: ${per(result.writeUnits).toFixed(2)} WRU, ${per(result.readUnits).toFixed(2)} RRU per stage execution`);
  for (const [operation, units] of [...result.units].sort()) console.log(`    ${operation.padEnd(34)} ${per(units).toFixed(2)} units`);
  console.log(`  EventBridge events: ${per(puttedEvents).toFixed(2)} per stage execution`);
  console.log(`Cost per million stage executions (${AWS_PRICES.region} list prices of ${AWS_PRICES.checkedOn}):`);
  console.log(`  DynamoDB writes     ${fmt(dynamoWrite)}`);
  console.log(`  DynamoDB reads      ${fmt(dynamoRead)}`);
  console.log(`  SQS FIFO requests   ${fmt(sqs)}`);
  console.log(`  EventBridge events  ${fmt(events)}`);
  console.log(`  Lambda requests     ${fmt(lambda)}`);
  console.log(`  = engine overhead   ${fmt(overhead)}  (target <= $5.00; Step Functions Standard: ${fmt(AWS_PRICES.stepFunctions.perMillionStandardTransitions)}, ${(AWS_PRICES.stepFunctions.perMillionStandardTransitions / overhead).toFixed(1)}x)`);
  console.log(`  S3 requests         ${fmt(s3)}  (${s3Put + s3Get} requests; outputs under the inline threshold should cause none)`);
  const rtt = [...result.latency].sort().map(([key, ms]) => `${key.replace(/^[a-z]+:/, "")} ${percentile(ms, 50).toFixed(1)}`);
  console.log(`Round trips, p50 ms: ${rtt.join(", ")}`);
  const gap = (p: number) => percentile(result.gapsMs, p).toFixed(1);
  if (result.gapsMs.length === 0) console.log("Stage code returned -> next stage code started: no transitions (the workflow is one group)");
  else console.log(`Stage code returned -> next stage code started: p50 ${gap(50)} ms, p99 ${gap(99)} ms (${result.gapsMs.length} transitions; target p50 < 30 ms)`);
  return { overheadPerMillion: overhead };
}

// Main ------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.log("stageflow AWS benchmark on DynamoDB Local + fauxqs (figures, not assertions)");
  const local = await startLocalAws({ tableName: "stageflow-bench", queuePrefix: "bench", bucketName: "bench-blobs" });
  const events = await startPutEventsEndpoint();
  const clients = createLocalAwsClients(local);
  const quietClients = createLocalAwsClients(local);
  instrument("dynamodb", clients.dynamo);
  instrument("sqs", clients.sqs);
  instrument("s3", clients.s3);
  try {
    const env = { clients, quietClients, tableName: local.tableName, bucketName: local.bucketName, queueUrls: local.queueUrls, eventsEndpoint: events.endpoint };
    const results: { name: string; overhead: number; executions: number }[] = [];
    // BENCH_ONLY=parallel (or linear, latency) runs the scenarios whose name contains it.
    const only = process.env.BENCH_ONLY;
    for (const [name, workflow, runs, stages] of ([
      ["100 runs x 10-stage linear", linear(10), 100, 10],
      ["20 runs x parallel group of 20", fanOut(20), 20, 20],
      // Fewer runs than worker slots: stage-to-stage time without waiting in the queue behind other runs.
      ["latency probe: 8 runs x 10-stage linear (no queueing)", linear(10), 8, 10],
      // One run alone: what a stage-to-stage hop costs when DynamoDB Local serves nothing else.
      ["latency probe: 1 run x 10-stage linear (alone)", linear(10), 1, 10],
    ] as const).filter(([name]) => !only || name.includes(only))) {
      const before = events.events();
      const result = await runScenario(name, workflow, runs, stages, env);
      const { overheadPerMillion } = report(result, events.events() - before);
      results.push({ name, overhead: overheadPerMillion, executions: result.stageExecutions });
    }
    const costed = results.slice(0, 2);
    const total = costed.reduce((s, r) => s + r.overhead * r.executions, 0) / costed.reduce((s, r) => s + r.executions, 0);
    console.log(`\nWeighted engine overhead: $${total.toFixed(3)} per million stage executions`);
  } finally {
    clients.destroy();
    quietClients.destroy();
    await stopLocalAws(local);
    await events.close();
  }
}

await main();
