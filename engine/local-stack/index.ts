/**
 * The local stack: the deployed architecture on one machine. DynamoDB Local and fauxqs stand in
 * for DynamoDB, SQS and S3 (created from engine/aws/definitions.ts like the CDK stack), the same
 * four Lambda handlers run in-process on the event shapes AWS gives them, the api handler is
 * served on localhost, and published events are recorded instead of sent to EventBridge.
 */
import type { PublishedEvent, WorkflowRegistry } from "../kernel/ports.js";
import { createLocalAwsClients, startLocalAws, stopLocalAws, type LocalAwsResources } from "../aws/local/index.js";
import { createApiHandler } from "../../lambdas/api.js";
import { createMaintenanceHandler } from "../../lambdas/maintenance.js";
import { createOutboxPublisherHandler } from "../../lambdas/outbox-publisher.js";
import { eventKeyOf } from "../../lambdas/outbox/publish-stream-records.js";
import { createEngineRuntime, type EngineRuntime } from "../../lambdas/runtime/engine-runtime.js";
import { createWorkerHandler } from "../../lambdas/worker.js";
import { createDynamoAICallLogger } from "../aws/dynamo/ai-call-logger.js";
import { QUEUE_PRIORITIES } from "../aws/definitions.js";
import { serveApiHandler } from "./api-gateway-server.js";
import { DynamoStreamSource } from "./dynamodb-stream-source.js";
import { lambdaContext } from "./lambda-context.js";
import { LocalScheduler } from "./local-scheduler.js";
import { RecordingEventSink } from "./recording-event-sink.js";
import { SqsEventSource } from "./sqs-event-source.js";

export { RecordingEventSink } from "./recording-event-sink.js";

export interface LocalStackOptions {
  registry: WorkflowRegistry;
  /** Port of the API. @default a free port */
  port?: number;
  /**
   * Emulators that are already running and provisioned (tests share one pair across files and
   * give each its own table, queues and bucket). The stack then neither starts nor stops them.
   * @default start DynamoDB Local and fauxqs for this stack
   */
  resources?: LocalAwsResources;
  /** Fixed emulator ports. @default free ports */
  dynamoPort?: number;
  sqsS3Port?: number;
  /** How often the maintenance tick runs (every minute on AWS; sooner locally). @default 2000 */
  maintenanceIntervalMs?: number;
  /** Powertools log level of the handlers. @default "WARN" (their logs would drown the terminal) */
  logLevel?: "DEBUG" | "INFO" | "WARN" | "ERROR";
  /** Infrastructure errors of the pollers (the handlers log their own). @default printed to stderr */
  onError?: (error: unknown) => void;
}

/** A running local stack. */
export interface LocalStack {
  /** Base URL of the API, e.g. http://localhost:4000 */
  readonly url: string;
  readonly aws: LocalAwsResources;
  readonly runtime: EngineRuntime;
  /** Every event published so far, in publish order. */
  readonly events: readonly PublishedEvent[];
  /** Calls `listener` with each event as it is published; returns an unsubscribe function. */
  onEvent(listener: (event: PublishedEvent) => void): () => void;
  /** Stops pollers, timers, the server and the emulators. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the local stack.
 *
 * @example
 * ```ts
 * const stack = await startLocalStack({ registry, port: 4000 });
 * const client = createClient({ endpoint: stack.url, credentials: false });
 * // ...
 * await stack.stop();
 * ```
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  process.env.POWERTOOLS_LOG_LEVEL = options.logLevel ?? process.env.POWERTOOLS_LOG_LEVEL ?? "WARN";
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  let stopped = false;
  const report = options.onError ?? ((error: unknown) => console.error("[local-stack]", error instanceof Error ? error.message : error));
  // Once stopping, the emulators may already be gone (Ctrl-C reaches their reaper too): stay quiet.
  const onError = (error: unknown) => {
    if (!stopped) report(error);
  };
  const started = options.resources ? undefined : await startLocalAws({ dynamoPort: options.dynamoPort, sqsS3Port: options.sqsS3Port });
  const aws: LocalAwsResources = options.resources ?? started!;
  const clients = createLocalAwsClients(aws);
  const stoppers: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const s of stoppers.reverse()) await Promise.resolve(s()).catch(onError);
    clients.destroy();
    if (started) await stopLocalAws(started);
  };

  try {
    const events = new RecordingEventSink();
    let maintenance: ReturnType<typeof createMaintenanceHandler> | undefined;
    const scheduler = new LocalScheduler((event) => maintenance!(event, lambdaContext("maintenance", 120_000, aws.region)));
    stoppers.push(() => scheduler.stop());
    const runtime = createEngineRuntime({
      registry: options.registry,
      dynamo: clients.dynamo,
      sqs: clients.sqs,
      s3: clients.s3,
      tableName: aws.tableName,
      bucketName: aws.bucketName,
      queueUrls: aws.queueUrls,
      eventSink: events,
      scheduler,
      aiCallLogger: createDynamoAICallLogger({ client: clients.dynamo, tableName: aws.tableName }),
    });
    const handlerOptions = { registry: options.registry, runtime };
    const api = createApiHandler(handlerOptions);
    const worker = createWorkerHandler(handlerOptions);
    maintenance = createMaintenanceHandler(handlerOptions);
    const publisher = createOutboxPublisherHandler(handlerOptions);

    const streams = new DynamoStreamSource({
      endpoint: aws.dynamoEndpoint,
      region: aws.region,
      credentials: aws.credentials,
      tableName: aws.tableName,
      // The construct's filter: inserted event items only.
      filter: (record) => eventKeyOf(record) !== null,
      invoke: (event) => publisher(event, lambdaContext("outbox-publisher", 60_000, aws.region)),
      onError,
    });
    await streams.start();
    stoppers.push(() => streams.stop());

    for (const lane of QUEUE_PRIORITIES) {
      const source = new SqsEventSource({
        client: clients.sqs,
        queueUrl: aws.queueUrls[lane],
        region: aws.region,
        invoke: (event) => worker(event, lambdaContext("worker", 300_000, aws.region)),
        onError,
      });
      await source.start();
      stoppers.push(() => source.stop());
    }

    let ticking = Promise.resolve();
    const tick = setInterval(() => {
      ticking = ticking.then(() => maintenance!({ "detail-type": "Scheduled Event", source: "aws.events" }, lambdaContext("maintenance", 120_000, aws.region)).then(() => undefined, onError));
    }, options.maintenanceIntervalMs ?? 2_000);
    stoppers.push(async () => {
      clearInterval(tick);
      await ticking;
    });

    const server = await serveApiHandler((event) => api(event, lambdaContext("api", 29_000, aws.region)), { port: options.port });
    stoppers.push(() => server.close());

    return {
      url: server.url,
      aws,
      runtime,
      events: events.events,
      onEvent: (listener) => events.subscribe(listener),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
