import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface EngineFunctionProps {
  readonly entry: string;
  readonly description: string;
  readonly serviceName: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly logLevel: string;
  readonly bundling?: nodejs.BundlingOptions;
  readonly projectRoot?: string;
  readonly depsLockFilePath?: string;
  readonly reservedConcurrentExecutions?: number;
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * One stageflow Lambda: Node.js 22 on arm64, bundled with local esbuild, its own log group with
 * a retention, active tracing, and its own role that starts with no permissions at all (no
 * managed policies), so every grant it gets is visible in the construct and in the tests.
 */
export class EngineFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: EngineFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logRetention,
      // Logs are diagnostics, not run data: they go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `${props.description} (stageflow)`,
    });
    // Only its own log group: the function never creates log groups or writes anywhere else.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.function = new nodejs.NodejsFunction(this, "Function", {
      entry: props.entry,
      handler: "handler",
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      deadLetterQueue: props.deadLetterQueue,
      projectRoot: props.projectRoot,
      depsLockFilePath: props.depsLockFilePath,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        NODE_OPTIONS: "--enable-source-maps",
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: "node22",
        mainFields: ["module", "main"],
        minify: true,
        sourceMap: true,
        // Bundle the SDK too: the code that was tested is the code that runs, whatever SDK
        // version the managed runtime happens to carry.
        bundleAwsSDK: true,
        // ESM bundles still meet CommonJS dependencies that call require().
        banner: "import { createRequire as __sfCreateRequire } from 'node:module'; const require = __sfCreateRequire(import.meta.url);",
        ...props.bundling,
      },
    });

    const runtimeReason =
      "Pinned to nodejs22.x, the runtime stageflow's handlers are built and tested for (esbuild target node22); upgrading is a deliberate release step";
    Validations.of(this.function).acknowledge(
      { id: "AwsSolutions-L1", reason: runtimeReason },
      { id: "Serverless-LambdaLatestVersion", reason: runtimeReason },
    );
    Validations.of(this.role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "Resource '*' only for actions without resource-level permissions: xray:PutTraceSegments and " +
        "xray:PutTelemetryRecords (active tracing), scheduler:ListSchedules (finding a run's wake-ups to cancel them) " +
        "and, on the outbox publisher, dynamodb:ListStreams (stream event source)",
    });
  }

  /** Adds one statement to this function's role. */
  allow(actions: string[], resources: string[]): void {
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
  }
}
