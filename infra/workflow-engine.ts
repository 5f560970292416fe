import path from "node:path";
import { Aws, Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cloudwatchActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as eventSources from "aws-cdk-lib/aws-lambda-event-sources";
import type * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import type * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import {
  BLOB_DEFINITION,
  ENV_VARS,
  EVENT_DEFINITION,
  QUEUE_PRIORITIES,
  QUEUES_DEFINITION,
  TABLE_DEFINITION,
  type KeyAttributeDefinition,
  type QueueDefinition,
  type QueuePriority,
} from "../engine/aws/definitions.js";
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from "../lambdas/metric-names.js";
import { EngineFunction } from "./engine-function.js";
import { writeHandlerEntry, type HandlerName } from "./handler-entries.js";
import { iamWildcardFindingId } from "./nag-ids.js";

/** Properties of a {@link WorkflowEngine}. */
export interface WorkflowEngineProps {
  /**
   * The TypeScript (or JavaScript) file that exports your `WorkflowRegistry`. It is bundled with
   * esbuild into every engine function.
   */
  readonly registryEntry: string;
  /**
   * Name of the export of `registryEntry` that holds the registry.
   * @default "registry"
   */
  readonly registryExportName?: string;
  /**
   * What happens to the table and the run-data bucket when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Protects the table from deletion (CloudFormation and console).
   * @default true when `removalPolicy` is RETAIN, false otherwise
   */
  readonly deletionProtection?: boolean;
  /**
   * Point-in-time recovery of the table.
   * @default TABLE_DEFINITION.pointInTimeRecovery (true)
   */
  readonly pointInTimeRecovery?: boolean;
  /**
   * Run data (large outputs, artifacts) in S3 is deleted this long after it was written.
   * DynamoDB keeps the run; reading an expired output returns an error.
   * @default - never deleted; moved to S3 Infrequent Access after 30 days
   */
  readonly runDataRetention?: Duration;
  /**
   * Bucket that receives the run-data bucket's server access logs.
   * @default - a dedicated, encrypted bucket whose logs expire after 90 days
   */
  readonly accessLogsBucket?: s3.IBucket;
  /**
   * The bus stageflow publishes workflow and stage events on.
   * @default - a new event bus
   */
  readonly eventBus?: events.IEventBus;
  /**
   * Authorizer of every API route.
   * @default IAM (SigV4): callers need `execute-api:Invoke`, see `grantStartRun` / `grantReadRuns`
   */
  readonly apiAuthorizer?: apigwv2.IHttpRouteAuthorizer;
  /**
   * Steady-state requests per second the API accepts before throttling (429).
   * @default 50
   */
  readonly apiRateLimit?: number;
  /**
   * Burst of requests the API accepts above the rate limit.
   * @default 100
   */
  readonly apiBurstLimit?: number;
  /**
   * Where alarms notify. Alarms are created either way.
   * @default - no alarm actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * A job queue's oldest message older than this raises an alarm.
   * @default Duration.minutes(15)
   */
  readonly oldestJobAlarmThreshold?: Duration;
  /**
   * Memory of the worker, which runs your stages.
   * @default 1024
   */
  readonly workerMemorySize?: number;
  /**
   * Timeout of the worker: the longest a single stage execution may run (async-batch stages
   * suspend instead of waiting). The job queues' visibility timeout is raised to at least this.
   * @default Duration.minutes(5)
   */
  readonly workerTimeout?: Duration;
  /**
   * Jobs the worker receives per invocation (each job is one stage execution; they run concurrently).
   * @default 5
   */
  readonly workerBatchSize?: number;
  /**
   * Most concurrent worker invocations per job queue (2 to 1000).
   * @default - no limit beyond the account's concurrency
   */
  readonly workerMaxConcurrency?: number;
  /**
   * How often the maintenance tick runs (claim, poll suspended, reap, re-drive, flush outbox).
   * @default Duration.minutes(1)
   */
  readonly maintenanceInterval?: Duration;
  /**
   * Environment variables added to every engine function (e.g. model provider settings).
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * Log retention of every engine function.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Powertools log level of the functions.
   * @default "INFO"
   */
  readonly logLevel?: "DEBUG" | "INFO" | "WARN" | "ERROR";
  /**
   * esbuild options merged over the defaults (ESM, minified, source maps, SDK bundled).
   * @default - the defaults
   */
  readonly bundling?: nodejs.BundlingOptions;
  /**
   * Root of your project (where `node_modules` is), passed to NodejsFunction.
   * @default - the directory of the nearest lock file
   */
  readonly projectRoot?: string;
  /**
   * Lock file passed to NodejsFunction.
   * @default - the nearest lock file
   */
  readonly depsLockFilePath?: string;
}

const TABLE_READ_ACTIONS = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"];
const TABLE_WRITE_ACTIONS = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"];

/**
 * stageflow in your AWS account: the DynamoDB table, FIFO job queues with a dead-letter queue,
 * the run-data bucket, the event bus, the API (IAM-authorized by default), the worker,
 * maintenance and outbox-publisher functions, the per-minute maintenance schedule and alarms.
 * Table and queues are built from `engine/aws/definitions.ts`, the same definitions the adapters
 * and the local stack use.
 *
 * @example
 * ```ts
 * const engine = new WorkflowEngine(stack, "Engine", { registryEntry: "src/workflows/registry.ts" });
 * engine.grantStartRun(myServiceRole);
 * new events.Rule(stack, "OnCompleted", {
 *   eventBus: engine.eventBus,
 *   eventPattern: engine.eventPattern(["workflow:completed"]),
 *   targets: [new targets.SqsQueue(myQueue)],
 * });
 * ```
 */
export class WorkflowEngine extends Construct {
  readonly table: dynamodb.Table;
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.IBucket;
  readonly eventBus: events.IEventBus;
  /** Job queues by priority lane. */
  readonly jobQueues: Readonly<Record<QueuePriority, sqs.Queue>>;
  readonly deadLetterQueue: sqs.Queue;
  /**
   * What the engine gave up on after retries: outbox-publisher stream batches, failed maintenance
   * invocations and undeliverable schedule events. The work itself is re-driven by the next
   * maintenance tick; this queue is for inspection and alarms.
   */
  readonly failureQueue: sqs.Queue;
  readonly api: apigwv2.HttpApi;
  readonly apiStage: apigwv2.HttpStage;
  /** Base URL of the API. */
  readonly apiUrl: string;
  readonly apiFunction: lambda.IFunction;
  readonly workerFunction: lambda.IFunction;
  readonly maintenanceFunction: lambda.IFunction;
  readonly outboxPublisherFunction: lambda.IFunction;
  readonly scheduleGroup: scheduler.ScheduleGroup;
  /** Role EventBridge Scheduler assumes to deliver wake-ups of suspended stages. */
  readonly schedulerRole: iam.Role;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: WorkflowEngineProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const workerTimeout = props.workerTimeout ?? Duration.minutes(5);

    this.table = this.createTable(props, removalPolicy);
    ({ bucket: this.bucket, accessLogsBucket: this.accessLogsBucket } = this.createBuckets(props, removalPolicy));
    this.eventBus = props.eventBus ?? new events.EventBus(this, "EventBus");
    ({ lanes: this.jobQueues, dlq: this.deadLetterQueue } = this.createQueues(workerTimeout));
    this.failureQueue = new sqs.Queue(this, "Failures", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failureQueue).acknowledge(
      { id: "AwsSolutions-SQS3", reason: "This queue is itself the dead-letter destination of the engine's functions and rules" },
      { id: "Serverless-SQSRedrivePolicy", reason: "This queue is itself a dead-letter destination; nothing consumes it automatically" },
    );
    this.scheduleGroup = new scheduler.ScheduleGroup(this, "WakeUps", {
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.schedulerRole = new iam.Role(this, "SchedulerRole", {
      assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
      }),
      description: "EventBridge Scheduler delivers stageflow wake-ups to the maintenance function",
    });

    const entryDir = path.resolve(props.projectRoot ?? process.cwd(), ".stageflow", "entries");
    const make = (name: HandlerName, fnId: string, options: { description: string; serviceName: string; memorySize: number; timeout: Duration; environment?: Record<string, string>; deadLetterQueue?: sqs.IQueue }) =>
      new EngineFunction(this, fnId, {
        entry: writeHandlerEntry({ name, registryEntry: props.registryEntry, registryExportName: props.registryExportName ?? "registry", outDir: entryDir }),
        description: options.description,
        serviceName: options.serviceName,
        memorySize: options.memorySize,
        timeout: options.timeout,
        environment: { ...this.baseEnvironment(), ...options.environment, ...props.environment },
        logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        logLevel: props.logLevel ?? "INFO",
        bundling: props.bundling,
        projectRoot: props.projectRoot,
        depsLockFilePath: props.depsLockFilePath,
        deadLetterQueue: options.deadLetterQueue,
      });

    // The maintenance function is also the wake-up target, so the others learn its ARN; it
    // learns its own from the invocation context (an env var of its own ARN would be a cycle).
    const maintenance = make("maintenance", "Maintenance", {
      description: "stageflow maintenance tick and stage wake-ups",
      deadLetterQueue: this.failureQueue,
      serviceName: SERVICE_NAME.maintenance,
      memorySize: 512,
      timeout: Duration.minutes(2),
      environment: { [ENV_VARS.schedulerRoleArn]: this.schedulerRole.roleArn },
    });
    const wakeUpEnvironment = {
      [ENV_VARS.schedulerRoleArn]: this.schedulerRole.roleArn,
      [ENV_VARS.schedulerTargetArn]: maintenance.function.functionArn,
    };
    const api = make("api", "Api", {
      description: "stageflow HTTP API",
      serviceName: SERVICE_NAME.api,
      memorySize: 512,
      timeout: Duration.seconds(29),
      environment: wakeUpEnvironment,
    });
    const worker = make("worker", "Worker", {
      description: "stageflow worker: executes stages from the job queues",
      serviceName: SERVICE_NAME.worker,
      memorySize: props.workerMemorySize ?? 1024,
      timeout: workerTimeout,
      environment: wakeUpEnvironment,
    });
    const publisher = make("outbox-publisher", "OutboxPublisher", {
      description: "stageflow outbox publisher: DynamoDB stream to EventBridge",
      serviceName: SERVICE_NAME.outboxPublisher,
      memorySize: 256,
      timeout: Duration.minutes(1),
    });
    this.apiFunction = api.function;
    this.workerFunction = worker.function;
    this.maintenanceFunction = maintenance.function;
    this.outboxPublisherFunction = publisher.function;

    this.acknowledgeInvocationModels({ api, worker, publisher });
    this.grantEngineAccess({ api, worker, maintenance, publisher });
    this.connectWorker(worker, props);
    this.connectPublisher(publisher);
    this.scheduleMaintenance(maintenance, props.maintenanceInterval ?? Duration.minutes(1));
    ({ api: this.api, stage: this.apiStage } = this.createApi(api, props));
    this.apiUrl = this.apiStage.url;
    this.alarms = this.createAlarms(worker, props);
  }

  /** Lets `grantee` start runs (`POST /runs`) and read the workflow catalog (`GET /workflows`). */
  grantStartRun(grantee: iam.IGrantable): iam.Grant {
    return this.grantInvoke(grantee, [
      ["POST", "/runs"],
      ["GET", "/workflows"],
    ]);
  }

  /** Lets `grantee` read runs, their stages and events, and list runs and workflows. */
  grantReadRuns(grantee: iam.IGrantable): iam.Grant {
    return this.grantInvoke(grantee, [
      ["GET", "/runs"],
      ["GET", "/runs/*"],
      ["GET", "/workflows"],
    ]);
  }

  /** Lets `grantee` cancel runs and rerun them from a stage. */
  grantManageRuns(grantee: iam.IGrantable): iam.Grant {
    return this.grantInvoke(grantee, [
      ["POST", "/runs/*/cancel"],
      ["POST", "/runs/*/rerun"],
    ]);
  }

  /**
   * An event pattern matching stageflow events on {@link eventBus}, optionally only some types
   * (the EventBridge `detail-type`, e.g. `"workflow:completed"`).
   */
  eventPattern(detailTypes?: readonly string[]): events.EventPattern {
    return { source: [EVENT_DEFINITION.source], ...(detailTypes ? { detailType: [...detailTypes] } : {}) };
  }

  private grantInvoke(grantee: iam.IGrantable, routes: [method: string, routePath: string][]): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ["execute-api:Invoke"],
      resourceArns: routes.map(([method, routePath]) => this.api.arnForExecuteApi(method, routePath, this.apiStage.stageName)),
    });
  }

  private createTable(props: WorkflowEngineProps, removalPolicy: RemovalPolicy): dynamodb.Table {
    const attribute = (key: KeyAttributeDefinition): dynamodb.Attribute => ({
      name: key.name,
      type: key.type === "S" ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
    });
    const table = new dynamodb.Table(this, "Table", {
      partitionKey: attribute(TABLE_DEFINITION.partitionKey),
      sortKey: attribute(TABLE_DEFINITION.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TABLE_DEFINITION.timeToLiveAttribute,
      stream: dynamodb.StreamViewType[TABLE_DEFINITION.streamViewType],
      pointInTimeRecoverySpecification: {
        pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? TABLE_DEFINITION.pointInTimeRecovery,
      },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.deletionProtection ?? removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
    for (const index of TABLE_DEFINITION.globalSecondaryIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
        projectionType: index.projection === "ALL" ? dynamodb.ProjectionType.ALL : dynamodb.ProjectionType.KEYS_ONLY,
      });
    }
    return table;
  }

  private createBuckets(props: WorkflowEngineProps, removalPolicy: RemovalPolicy): { bucket: s3.Bucket; accessLogsBucket: s3.IBucket } {
    let accessLogsBucket = props.accessLogsBucket;
    if (!accessLogsBucket) {
      const logs = new s3.Bucket(this, "AccessLogs", {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        lifecycleRules: [{ expiration: Duration.days(90) }],
        removalPolicy,
      });
      Validations.of(logs).acknowledge({
        id: "AwsSolutions-S1",
        reason: "This is the access-log bucket; logging it into itself would loop",
      });
      accessLogsBucket = logs;
    }
    const bucket = new s3.Bucket(this, "RunData", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogsBucket,
      serverAccessLogsPrefix: "run-data/",
      removalPolicy,
      lifecycleRules: [
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
        props.runDataRetention
          ? { prefix: BLOB_DEFINITION.runPrefix, expiration: props.runDataRetention }
          : {
              prefix: BLOB_DEFINITION.runPrefix,
              transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) }],
            },
      ],
    });
    return { bucket, accessLogsBucket };
  }

  private createQueues(workerTimeout: Duration): { lanes: Record<QueuePriority, sqs.Queue>; dlq: sqs.Queue } {
    // Lambda refuses an SQS trigger whose visibility timeout is shorter than the function timeout.
    const queueProps = (definition: QueueDefinition): sqs.QueueProps => ({
      fifo: definition.fifo,
      contentBasedDeduplication: definition.contentBasedDeduplication,
      visibilityTimeout: Duration.seconds(Math.max(definition.visibilityTimeoutSeconds, workerTimeout.toSeconds())),
      receiveMessageWaitTime: Duration.seconds(definition.receiveWaitTimeSeconds),
      retentionPeriod: Duration.seconds(definition.messageRetentionSeconds),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const dlq = new sqs.Queue(this, "JobsDeadLetter", queueProps(QUEUES_DEFINITION.deadLetterQueue));
    Validations.of(dlq).acknowledge(
      { id: "AwsSolutions-SQS3", reason: "This queue is the job queues' dead-letter queue" },
      { id: "Serverless-SQSRedrivePolicy", reason: "This queue is the job queues' dead-letter queue; it has no further redrive" },
    );
    const lanes = {} as Record<QueuePriority, sqs.Queue>;
    for (const priority of QUEUE_PRIORITIES) {
      lanes[priority] = new sqs.Queue(this, `Jobs${priority[0].toUpperCase()}${priority.slice(1)}`, {
        ...queueProps(QUEUES_DEFINITION.jobQueues[priority]),
        deadLetterQueue: { queue: dlq, maxReceiveCount: QUEUES_DEFINITION.maxReceiveCount },
      });
    }
    return { lanes, dlq };
  }

  private baseEnvironment(): Record<string, string> {
    return {
      [ENV_VARS.tableName]: this.table.tableName,
      [ENV_VARS.bucketName]: this.bucket.bucketName,
      [ENV_VARS.eventBusName]: this.eventBus.eventBusName,
      [ENV_VARS.queueUrlHigh]: this.jobQueues.high.queueUrl,
      [ENV_VARS.queueUrlNormal]: this.jobQueues.normal.queueUrl,
      [ENV_VARS.queueUrlLow]: this.jobQueues.low.queueUrl,
      [ENV_VARS.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
      [ENV_VARS.schedulerGroupName]: this.scheduleGroup.scheduleGroupName,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    };
  }

  /** Exactly what each function's code calls; the assertion tests pin these lists. */
  private grantEngineAccess(fns: { api: EngineFunction; worker: EngineFunction; maintenance: EngineFunction; publisher: EngineFunction }): void {
    const tableResources = [this.table.tableArn, `${this.table.tableArn}/index/*`];
    const blobObjects = this.bucket.arnForObjects(`${BLOB_DEFINITION.runPrefix}*`);
    const laneArns = QUEUE_PRIORITIES.map((p) => this.jobQueues[p].queueArn);
    const scheduleArn = Stack.of(this).formatArn({
      service: "scheduler",
      resource: "schedule",
      resourceName: `${this.scheduleGroup.scheduleGroupName}/*`,
    });

    for (const fn of [fns.api, fns.worker, fns.maintenance]) {
      fn.allow([...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS], tableResources);
      // PutObject covers the parts of a multipart upload; aborting a failed one is its own action.
      fn.allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], [blobObjects]);
      fn.allow(["s3:ListBucket"], [this.bucket.bucketArn]);
      fn.allow(["sqs:SendMessage"], laneArns);
      fn.allow(["scheduler:CreateSchedule", "scheduler:DeleteSchedule"], [scheduleArn]);
      // Cancelling a run finds its wake-ups by name prefix; ListSchedules has no resource-level permissions.
      fn.allow(["scheduler:ListSchedules"], ["*"]);
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ["iam:PassRole"],
          resources: [this.schedulerRole.roleArn],
          conditions: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
        }),
      );
      Validations.of(fn.role).acknowledge(
        { id: iamWildcardFindingId(this, tableResources[1]), reason: "Queries the engine table's GSIs, all defined in engine/aws/definitions.ts" },
        { id: iamWildcardFindingId(this, blobObjects), reason: "Run data objects are keyed by run id under runs/ and created at run time" },
        { id: iamWildcardFindingId(this, scheduleArn), reason: "Wake-up schedules are created per suspended stage at run time, only inside the engine's own schedule group" },
      );
    }
    // The outbox publisher reads events and marks them published; it never touches jobs and only
    // reads run data (event payloads too large for an item are stored there).
    fns.publisher.allow([...TABLE_READ_ACTIONS, "dynamodb:UpdateItem"], tableResources);
    fns.publisher.allow(["s3:GetObject"], [blobObjects]);
    Validations.of(fns.publisher.role).acknowledge(
      { id: iamWildcardFindingId(this, tableResources[1]), reason: "Reads unpublished events through the work index (GSIs defined in engine/aws/definitions.ts)" },
      { id: iamWildcardFindingId(this, blobObjects), reason: "Reads event payloads offloaded under runs/<runId>/, keyed at run time" },
    );
    for (const fn of [fns.maintenance, fns.publisher]) fn.allow(["events:PutEvents"], [this.eventBus.eventBusArn]);

    this.schedulerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: [fns.maintenance.function.functionArn] }),
    );
  }

  /**
   * Only the maintenance function is invoked asynchronously (schedule and wake-ups) and has a
   * dead-letter queue; the others are invoked synchronously, where a DLQ never receives anything.
   */
  private acknowledgeInvocationModels(fns: { api: EngineFunction; worker: EngineFunction; publisher: EngineFunction }): void {
    const reasons = {
      api: "Invoked synchronously by API Gateway; the caller gets the error response",
      worker: "Invoked synchronously by the SQS event source; failed jobs go to the job queues' dead-letter queue",
      publisher: "Invoked synchronously by the DynamoDB Streams event source, whose on-failure destination is the failure queue",
    };
    for (const [name, fn] of Object.entries(fns) as [keyof typeof reasons, EngineFunction][]) {
      Validations.of(fn.function).acknowledge({ id: "Serverless-LambdaDLQ", reason: reasons[name] });
    }
  }

  private connectWorker(worker: EngineFunction, props: WorkflowEngineProps): void {
    for (const priority of QUEUE_PRIORITIES) {
      worker.function.addEventSource(
        new eventSources.SqsEventSource(this.jobQueues[priority], {
          batchSize: props.workerBatchSize ?? 5,
          // One failed job is retried alone; the others in its batch are done.
          reportBatchItemFailures: true,
          maxConcurrency: props.workerMaxConcurrency,
        }),
      );
    }
    Validations.of(worker.function).acknowledge({
      id: "Serverless-LambdaEventSourceMappingDestination",
      reason: "SQS event sources cannot have an on-failure destination; the job queues' redrive policy moves failed jobs to the dead-letter queue",
    });
    // The event sources grant receive, delete and ChangeMessageVisibility (heartbeats extend
    // the visibility of the job being executed); nothing else is needed to consume.
  }

  private connectPublisher(publisher: EngineFunction): void {
    publisher.function.addEventSource(
      new eventSources.DynamoEventSource(this.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        // Per-run order: a shard's records are handled in order, one batch at a time.
        parallelizationFactor: 1,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: 10,
        maxRecordAge: Duration.hours(1),
        // What still fails is reported here; maintenance's outbox.flush publishes it later.
        onFailure: new eventSources.SqsDlq(this.failureQueue),
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual("INSERT"),
            dynamodb: { Keys: { sk: { S: lambda.FilterRule.beginsWith("EVENT#") } } },
          }),
        ],
      }),
    );
  }

  private scheduleMaintenance(maintenance: EngineFunction, interval: Duration): void {
    new events.Rule(this, "MaintenanceSchedule", {
      description: "Runs the stageflow maintenance tick",
      schedule: events.Schedule.rate(interval),
      // A missed tick is covered by the next one; retrying it would only pile up.
      targets: [
        new targets.LambdaFunction(maintenance.function, {
          retryAttempts: 0,
          maxEventAge: Duration.minutes(1),
          deadLetterQueue: this.failureQueue,
        }),
      ],
    });
  }

  private createApi(api: EngineFunction, props: WorkflowEngineProps): { api: apigwv2.HttpApi; stage: apigwv2.HttpStage } {
    const httpApi = new apigwv2.HttpApi(this, "HttpApi", {
      description: "stageflow API",
      createDefaultStage: false,
      defaultAuthorizer: props.apiAuthorizer ?? new HttpIamAuthorizer(),
    });
    const accessLogs = new logs.LogGroup(this, "ApiAccessLogs", {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = new apigwv2.HttpStage(this, "ApiStage", {
      httpApi,
      stageName: "$default",
      autoDeploy: true,
      throttle: { rateLimit: props.apiRateLimit ?? 50, burstLimit: props.apiBurstLimit ?? 100 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apiAccessLogFormat(),
      },
    });
    const integration = new HttpLambdaIntegration("ApiIntegration", api.function);
    const routes: [apigwv2.HttpMethod, string][] = [
      [apigwv2.HttpMethod.POST, "/runs"],
      [apigwv2.HttpMethod.GET, "/runs"],
      [apigwv2.HttpMethod.GET, "/runs/{id}"],
      [apigwv2.HttpMethod.GET, "/runs/{id}/stages"],
      [apigwv2.HttpMethod.GET, "/runs/{id}/events"],
      [apigwv2.HttpMethod.POST, "/runs/{id}/cancel"],
      [apigwv2.HttpMethod.POST, "/runs/{id}/rerun"],
      [apigwv2.HttpMethod.GET, "/workflows"],
    ];
    for (const [method, routePath] of routes) httpApi.addRoutes({ path: routePath, methods: [method], integration });
    return { api: httpApi, stage };
  }

  private createAlarms(worker: EngineFunction, props: WorkflowEngineProps): cloudwatch.Alarm[] {
    const alarm = (id: string, description: string, metric: cloudwatch.IMetric, threshold: number) =>
      new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const oldest = props.oldestJobAlarmThreshold ?? Duration.minutes(15);
    const alarms = [
      alarm("DeadLetterAlarm", "Jobs reached the dead-letter queue", this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: "Maximum" }), 1),
      alarm("FailureQueueAlarm", "The engine gave up on a stream batch, maintenance invocation or schedule event (maintenance re-drives the work)", this.failureQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: "Maximum" }), 1),
      alarm("WorkerErrorsAlarm", "The worker function failed invocations", worker.function.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }), 1),
      ...QUEUE_PRIORITIES.map((priority) =>
        alarm(
          `OldestJob${priority[0].toUpperCase()}${priority.slice(1)}Alarm`,
          `A ${priority}-priority job waited longer than ${oldest.toHumanString()}`,
          this.jobQueues[priority].metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: "Maximum" }),
          oldest.toSeconds(),
        ),
      ),
      alarm(
        "StuckRunsAlarm",
        "The maintenance tick found runs RUNNING without progress",
        new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName: METRIC.stuckRuns,
          dimensionsMap: { service: SERVICE_NAME.maintenance },
          statistic: "Sum",
          period: Duration.minutes(5),
        }),
        1,
      ),
    ];
    if (props.alarmTopic) {
      const action = new cloudwatchActions.SnsAction(props.alarmTopic);
      for (const a of alarms) a.addAlarmAction(action);
    }
    return alarms;
  }
}

/** JSON access logs with the fields needed to trace a request to its Lambda logs. */
function apiAccessLogFormat(): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: "$context.requestId",
      ip: "$context.identity.sourceIp",
      caller: "$context.identity.caller",
      user: "$context.identity.user",
      requestTime: "$context.requestTime",
      httpMethod: "$context.httpMethod",
      routeKey: "$context.routeKey",
      status: "$context.status",
      protocol: "$context.protocol",
      responseLength: "$context.responseLength",
      integrationError: "$context.integrationErrorMessage",
    }),
  );
}
