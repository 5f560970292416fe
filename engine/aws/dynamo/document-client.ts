import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, type TranslateConfig } from "@aws-sdk/lib-dynamodb";

/** A DynamoDB client as users hold it: the base client or a document client. */
export type DynamoClientLike = DynamoDBClient | DynamoDBDocumentClient;

/**
 * The document client the adapters need. Kernel payloads may carry `undefined` fields (optional
 * event fields), which the marshaller rejects unless `removeUndefinedValues` is on: a given
 * document client gets that option added (its other options stay).
 */
export function toDocumentClient(client: DynamoClientLike): DynamoDBDocumentClient {
  if (client instanceof DynamoDBDocumentClient) {
    const config = client.config as { translateConfig?: TranslateConfig };
    config.translateConfig = {
      ...config.translateConfig,
      marshallOptions: { ...config.translateConfig?.marshallOptions, removeUndefinedValues: true },
    };
    return client;
  }
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
