import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, UpdateTimeToLiveCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  QUEUE_PRIORITIES,
  TABLE_DEFINITION,
  buildCreateDeadLetterQueueInput,
  buildCreateJobQueueInput,
  buildCreateTableInput,
  type QueuePriority,
} from "../definitions.js";

/** URLs of the job queues, by lane, and of the DLQ. */
export type JobQueueUrls = Readonly<Record<QueuePriority | "dlq", string>>;

/**
 * Creates the engine table from `TABLE_DEFINITION` (the same definition the CDK stack uses), with
 * TTL, and waits until it is ACTIVE. An existing table is left as it is.
 */
export async function createEngineTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(buildCreateTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  for (let i = 0; i < 600; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === "ACTIVE") break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TABLE_DEFINITION.timeToLiveAttribute, Enabled: true },
    }),
  ).catch((error: unknown) => {
    // Enabling TTL twice is an error on real DynamoDB; the state we want is there.
    if (!(error instanceof Error && /already enabled/i.test(error.message))) throw error;
  });
}

/** Creates the DLQ and the three FIFO lanes (redriving to it) from `QUEUES_DEFINITION`. */
export async function createJobQueues(client: SQSClient, prefix: string): Promise<JobQueueUrls> {
  const dlq = await client.send(new CreateQueueCommand(buildCreateDeadLetterQueueInput(prefix)));
  const dlqUrl = required(dlq.QueueUrl, "DLQ url");
  const attributes = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }));
  const dlqArn = required(attributes.Attributes?.QueueArn, "DLQ arn");
  const urls: Partial<Record<QueuePriority | "dlq", string>> = { dlq: dlqUrl };
  for (const priority of QUEUE_PRIORITIES) {
    const created = await client.send(new CreateQueueCommand(buildCreateJobQueueInput(priority, dlqArn, prefix)));
    urls[priority] = required(created.QueueUrl, `${priority} queue url`);
  }
  return urls as JobQueueUrls;
}

/** Creates the blob bucket (idempotent). */
export async function createBlobBucket(client: S3Client, bucketName: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucketName }));
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`Provisioning returned no ${what}`);
  return value;
}
