import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { S3Client } from "@aws-sdk/client-s3";
import { LOCAL_CREDENTIALS, LOCAL_REGION } from "./credentials.js";

/** Endpoints of the local emulators. */
export interface LocalEndpoints {
  readonly dynamoEndpoint: string;
  /** fauxqs serves SQS and S3 on one endpoint. */
  readonly sqsS3Endpoint: string;
}

/** SDK clients pointed at the local emulators. */
export interface LocalAwsClients {
  readonly dynamo: DynamoDBClient;
  readonly document: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  /** Closes the clients' sockets. */
  destroy(): void;
}

/**
 * SDK clients for the emulators: explicit endpoints (SQS would otherwise follow the queue URL's
 * host), path-style S3, and the document client the DynamoDB adapters expect.
 */
export function createLocalAwsClients(endpoints: LocalEndpoints): LocalAwsClients {
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamo = new DynamoDBClient({ ...common, endpoint: endpoints.dynamoEndpoint });
  const document = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const sqs = new SQSClient({ ...common, endpoint: endpoints.sqsS3Endpoint });
  const s3 = new S3Client({ ...common, endpoint: endpoints.sqsS3Endpoint, forcePathStyle: true });
  return {
    dynamo,
    document,
    sqs,
    s3,
    destroy() {
      document.destroy();
      dynamo.destroy();
      sqs.destroy();
      s3.destroy();
    },
  };
}
