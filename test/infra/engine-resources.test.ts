import { Duration } from "aws-cdk-lib";
import { Match } from "aws-cdk-lib/assertions";
import * as events from "aws-cdk-lib/aws-events";
import * as sns from "aws-cdk-lib/aws-sns";
import { describe, expect, it } from "vitest";
import { QUEUES_DEFINITION, TABLE_DEFINITION } from "../../engine/aws/definitions.js";
import { synthEngine } from "./synth.js";
import { functionId, resources } from "./template-queries.js";

describe("the WorkflowEngine construct", { timeout: 60_000 }, () => {
  const { template } = synthEngine();

  it("builds the DynamoDB table from the shared definitions: keys, indexes, TTL, stream and point-in-time recovery", () => {
    const keyAttributes = [TABLE_DEFINITION.partitionKey, TABLE_DEFINITION.sortKey, ...TABLE_DEFINITION.globalSecondaryIndexes.flatMap((i) => [i.partitionKey, i.sortKey])];
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [
        { AttributeName: TABLE_DEFINITION.partitionKey.name, KeyType: "HASH" },
        { AttributeName: TABLE_DEFINITION.sortKey.name, KeyType: "RANGE" },
      ],
      AttributeDefinitions: Match.arrayWith(keyAttributes.map((k) => ({ AttributeName: k.name, AttributeType: k.type }))),
      GlobalSecondaryIndexes: TABLE_DEFINITION.globalSecondaryIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey.name, KeyType: "HASH" },
          { AttributeName: index.sortKey.name, KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: index.projection },
      })),
      TimeToLiveSpecification: { AttributeName: TABLE_DEFINITION.timeToLiveAttribute, Enabled: true },
      StreamSpecification: { StreamViewType: TABLE_DEFINITION.streamViewType },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    template.hasResource("AWS::DynamoDB::Table", { DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
  });

  it("creates one encrypted FIFO job queue per priority, each redriving to a FIFO dead-letter queue", () => {
    const queues = resources(template, "AWS::SQS::Queue").map(([, q]) => q.Properties);
    const lanes = queues.filter((q) => q.RedrivePolicy !== undefined);
    expect(lanes).toHaveLength(3);
    for (const lane of lanes) {
      expect(lane).toMatchObject({
        FifoQueue: true,
        ContentBasedDeduplication: false,
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: QUEUES_DEFINITION.jobQueues.normal.messageRetentionSeconds,
        ReceiveMessageWaitTimeSeconds: QUEUES_DEFINITION.jobQueues.normal.receiveWaitTimeSeconds,
        RedrivePolicy: { maxReceiveCount: QUEUES_DEFINITION.maxReceiveCount },
      });
    }
    const dlqs = queues.filter((q) => q.FifoQueue === true && q.RedrivePolicy === undefined);
    expect(dlqs).toHaveLength(1);
  });

  it("raises the job queues' visibility timeout to the worker timeout, which Lambda requires of an SQS trigger", () => {
    const { template: longWorker } = synthEngine({ workerTimeout: Duration.minutes(10) });
    const lanes = resources(longWorker, "AWS::SQS::Queue").filter(([, q]) => q.Properties.RedrivePolicy !== undefined);
    for (const [, lane] of lanes) expect(lane.Properties.VisibilityTimeout).toBe(600);
    longWorker.hasResourceProperties("AWS::Lambda::Function", { Timeout: 600, Description: Match.stringLikeRegexp("worker") });
  });

  it("keeps run data in a private, encrypted, TLS-only bucket with access logs and a lifecycle", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: "run-data/" }),
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
          Match.objectLike({ Prefix: "runs/", Transitions: [{ StorageClass: "STANDARD_IA", TransitionInDays: 30 }] }),
        ]),
      },
    });
    for (const [, policy] of resources(template, "AWS::S3::BucketPolicy")) {
      expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it("expires run data after runDataRetention when one is set", () => {
    const { template: expiring } = synthEngine({ runDataRetention: Duration.days(30) });
    expiring.hasResourceProperties("AWS::S3::Bucket", {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Prefix: "runs/", ExpirationInDays: 30 })]) },
    });
  });

  it("runs every function on Node.js 22 on arm64 with active tracing and a log group with retention", () => {
    const functions = resources(template, "AWS::Lambda::Function");
    expect(functions).toHaveLength(4);
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: "nodejs22.x", Architectures: ["arm64"], TracingConfig: { Mode: "Active" }, LoggingConfig: { LogFormat: "JSON" } });
    }
    for (const [, group] of resources(template, "AWS::Logs::LogGroup")) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it("feeds the worker from every job queue with partial batch responses", () => {
    const mappings = resources(template, "AWS::Lambda::EventSourceMapping").filter(([, m]) => JSON.stringify(m.Properties.FunctionName).includes(functionId(template, "Worker")));
    expect(mappings).toHaveLength(3);
    for (const [, mapping] of mappings) expect(mapping.Properties).toMatchObject({ FunctionResponseTypes: ["ReportBatchItemFailures"], BatchSize: 5 });
  });

  it("feeds the outbox publisher only newly inserted events from the table stream, reporting failed records", () => {
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionName: { Ref: functionId(template, "OutboxPublisher") },
      EventSourceArn: { "Fn::GetAtt": [Match.stringLikeRegexp("EngineTable"), "StreamArn"] },
      StartingPosition: "TRIM_HORIZON",
      ParallelizationFactor: 1,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ["INSERT"], dynamodb: { Keys: { sk: { S: [{ prefix: "EVENT#" }] } } } }) }] },
    });
  });

  it("runs the maintenance tick every minute", () => {
    template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(1 minute)",
      Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [functionId(template, "Maintenance"), "Arn"] }, RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
  });

  it("serves the API routes with IAM authorization, throttling and JSON access logs", () => {
    const routes = resources(template, "AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual([
      "GET /runs",
      "GET /runs/{id}",
      "GET /runs/{id}/events",
      "GET /runs/{id}/stages",
      "GET /workflows",
      "POST /runs",
      "POST /runs/{id}/cancel",
      "POST /runs/{id}/rerun",
    ]);
    for (const route of routes) expect(route.AuthorizationType).toBe("AWS_IAM");
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp("requestId") },
    });
  });

  it("alarms on dead-lettered jobs, worker errors, old jobs in each queue and stuck runs", () => {
    const alarms = resources(template, "AWS::CloudWatch::Alarm").map(([, a]) => a.Properties);
    const byMetric = (name: string) => alarms.filter((a) => a.MetricName === name);
    expect(byMetric("ApproximateNumberOfMessagesVisible")).toHaveLength(2);
    expect(byMetric("Errors")).toHaveLength(1);
    expect(byMetric("ApproximateAgeOfOldestMessage").map((a) => a.Threshold)).toEqual([900, 900, 900]);
    expect(byMetric("StuckRuns")).toEqual([expect.objectContaining({ Namespace: "stageflow", Threshold: 1 })]);
    for (const alarm of alarms) expect(alarm.AlarmActions).toBeUndefined();
  });

  it("sends every alarm to the alarm topic when one is given", () => {
    const { template: notified } = synthEngine((stack) => ({ alarmTopic: new sns.Topic(stack, "AlarmTopic") }));
    for (const [, alarm] of resources(notified, "AWS::CloudWatch::Alarm")) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
    }
  });

  it("tells the API and the worker where wake-ups go: the maintenance function, through the scheduler role", () => {
    for (const name of ["Api", "Worker"]) {
      const fn = template.findResources("AWS::Lambda::Function")[functionId(template, name)] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
      expect(fn.Properties.Environment.Variables).toMatchObject({
        STAGEFLOW_SCHEDULE_TARGET_ARN: { "Fn::GetAtt": [functionId(template, "Maintenance"), "Arn"] },
        STAGEFLOW_SCHEDULE_ROLE_ARN: { "Fn::GetAtt": [expect.stringMatching(/^EngineSchedulerRole/), "Arn"] },
        STAGEFLOW_SCHEDULE_GROUP: expect.stringMatching(/WakeUps/),
      });
    }
  });

  it("publishes to an existing event bus instead of creating one when given", () => {
    const { template: shared } = synthEngine((stack) => ({ eventBus: events.EventBus.fromEventBusName(stack, "Shared", "shared-bus") }));
    shared.resourceCountIs("AWS::Events::EventBus", 0);
    shared.hasResourceProperties("AWS::Lambda::Function", { Environment: { Variables: Match.objectLike({ STAGEFLOW_EVENT_BUS_NAME: "shared-bus" }) } });
  });
});
