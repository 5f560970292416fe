import { describe, expect, it } from "vitest";
import * as iam from "aws-cdk-lib/aws-iam";
import { Match } from "aws-cdk-lib/assertions";
import { synthEngine } from "./synth.js";
import { actionsOf, actionsOn, resources, statementsOf } from "./template-queries.js";

const TABLE_DATA = [
  "dynamodb:BatchGetItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:ConditionCheckItem",
  "dynamodb:DeleteItem",
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:Query",
  "dynamodb:UpdateItem",
];
const sorted = (set: Set<string>) => [...set].sort();

describe("each engine function's role", { timeout: 60_000 }, () => {
  const { template } = synthEngine();

  it("gives the API function the table, run data, job queues and wake-up schedules, but no event bus", () => {
    const statements = statementsOf(template, "Api");
    expect(sorted(actionsOn(statements, "EngineTable"))).toEqual(TABLE_DATA);
    expect(sorted(actionsOn(statements, "EngineRunData"))).toEqual(["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject"]);
    expect(sorted(actionsOn(statements, "EngineJobs"))).toEqual(["sqs:SendMessage"]);
    expect(actionsOf(statements)).not.toContain("events:PutEvents");
    expect(actionsOf(statements)).not.toContain("sqs:ReceiveMessage");
  });

  it("lets the worker consume and extend jobs, but not publish events", () => {
    const statements = statementsOf(template, "Worker");
    expect(sorted(actionsOn(statements, "EngineJobs"))).toEqual([
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:ReceiveMessage",
      "sqs:SendMessage",
    ]);
    expect(sorted(actionsOn(statements, "EngineTable"))).toEqual(TABLE_DATA);
    expect(actionsOf(statements)).not.toContain("events:PutEvents");
  });

  it("lets the outbox publisher read the stream and run data, mark events published and put them on the bus, and nothing else", () => {
    const statements = statementsOf(template, "OutboxPublisher");
    expect(sorted(actionsOn(statements, "EngineTable"))).toEqual([
      "dynamodb:BatchGetItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:DescribeStream",
      "dynamodb:GetItem",
      "dynamodb:GetRecords",
      "dynamodb:GetShardIterator",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]);
    expect(sorted(actionsOn(statements, "EngineEventBus"))).toEqual(["events:PutEvents"]);
    expect(actionsOn(statements, "EngineJobs").size).toBe(0);
    expect(sorted(actionsOn(statements, "EngineRunData"))).toEqual(["s3:GetObject"]);
    expect(actionsOf(statements)).not.toContain("dynamodb:PutItem");
    expect(actionsOf(statements)).not.toContain("dynamodb:DeleteItem");
  });

  it("lets the maintenance function publish events and schedule wake-ups through the scheduler role only", () => {
    const statements = statementsOf(template, "Maintenance");
    expect(sorted(actionsOn(statements, "EngineEventBus"))).toEqual(["events:PutEvents"]);
    const passRole = statements.find((s) => s.Action === "iam:PassRole");
    expect(passRole).toMatchObject({
      Resource: { "Fn::GetAtt": [expect.stringMatching(/^EngineSchedulerRole/), "Arn"] },
      Condition: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
    });
    expect(JSON.stringify(statements.find((s) => JSON.stringify(s.Action).includes("scheduler:CreateSchedule"))?.Resource)).toMatch(/schedule\/TestStack-Engine-WakeUps-[A-Z0-9]+\/\*/);
  });

  it("never grants wildcard actions, table scans or '*' resources except for actions that have no resource-level permissions", () => {
    for (const name of ["Api", "Worker", "Maintenance", "OutboxPublisher"]) {
      const statements = statementsOf(template, name);
      for (const action of actionsOf(statements)) expect(action).not.toMatch(/\*|dynamodb:Scan/);
      const onAnyResource = statements.filter((s) => s.Resource === "*");
      expect(sorted(actionsOf(onAnyResource)).filter((a) => !["xray:PutTraceSegments", "xray:PutTelemetryRecords", "dynamodb:ListStreams", "scheduler:ListSchedules"].includes(a))).toEqual([]);
    }
  });

  it("uses no managed policies, so every permission is written out in the template", () => {
    for (const [, role] of resources(template, "AWS::IAM::Role")) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it("lets EventBridge Scheduler invoke only the maintenance function", () => {
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyName: Match.stringLikeRegexp("SchedulerRole"),
      PolicyDocument: { Statement: [{ Action: "lambda:InvokeFunction", Effect: "Allow", Resource: { "Fn::GetAtt": [Match.stringLikeRegexp("EngineMaintenanceFunction"), "Arn"] } }] },
    });
  });
});

describe("the grant methods", { timeout: 60_000 }, () => {
  const invokeResources = (grant: (engine: import("../../infra/workflow-engine.js").WorkflowEngine, role: iam.Role) => void) => {
    const { template } = synthEngine({}, (stack, engine) => grant(engine, new iam.Role(stack, "Caller", { assumedBy: new iam.AccountRootPrincipal() })));
    const policy = resources(template, "AWS::IAM::Policy").find(([id]) => id.startsWith("Caller"))!;
    const [statement] = (policy[1].Properties.PolicyDocument as { Statement: { Action: string; Resource: unknown[] }[] }).Statement;
    expect(statement.Action).toBe("execute-api:Invoke");
    return statement.Resource.map((r) => JSON.stringify(r).replace(/.*\/\$default/, "").replace(/"\]\]\}$/, ""));
  };

  it("grantStartRun allows starting runs and reading the workflow catalog, not reading runs", () => {
    expect(invokeResources((engine, role) => engine.grantStartRun(role))).toEqual(["/POST/runs", "/GET/workflows"]);
  });

  it("grantReadRuns allows reading runs, stages, events and workflows, not starting or cancelling", () => {
    expect(invokeResources((engine, role) => engine.grantReadRuns(role))).toEqual(["/GET/runs", "/GET/runs/*", "/GET/workflows"]);
  });

  it("grantManageRuns allows cancelling and rerunning", () => {
    expect(invokeResources((engine, role) => engine.grantManageRuns(role))).toEqual(["/POST/runs/*/cancel", "/POST/runs/*/rerun"]);
  });
});
