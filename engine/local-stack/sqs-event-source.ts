import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";

export interface SqsEventSourceOptions {
  client: SQSClient;
  queueUrl: string;
  region: string;
  /** Invokes the function with an SQS event, as Lambda's event source mapping does. */
  invoke: (event: SQSEvent) => Promise<SQSBatchResponse | void>;
  /** @default 5 (the construct's default batch size) */
  batchSize?: number;
  /** Invocations in flight at once. @default 4 */
  concurrency?: number;
  onError?: (error: unknown) => void;
}

/**
 * Lambda's SQS event source mapping, in-process: long-polls the queue, invokes the worker with
 * the records Lambda would send, and deletes the messages that are not reported as failed.
 * Failed ones become visible again when their visibility timeout ends, as on AWS.
 */
export class SqsEventSource {
  private running = false;
  private inFlight = new Set<Promise<void>>();
  private loop?: Promise<void>;
  private queueArn?: string;

  constructor(private readonly options: SqsEventSourceOptions) {}

  async start(): Promise<void> {
    const { Attributes } = await this.options.client.send(new GetQueueAttributesCommand({ QueueUrl: this.options.queueUrl, AttributeNames: ["QueueArn"] }));
    this.queueArn = Attributes?.QueueArn;
    this.running = true;
    this.loop = this.poll();
  }

  /** Stops receiving and waits for the invocations in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.allSettled(this.inFlight);
  }

  private async poll(): Promise<void> {
    const concurrency = this.options.concurrency ?? 4;
    while (this.running) {
      if (this.inFlight.size >= concurrency) {
        await Promise.race(this.inFlight);
        continue;
      }
      let messages: Message[] = [];
      try {
        ({ Messages: messages = [] } = await this.options.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.options.queueUrl,
            MaxNumberOfMessages: this.options.batchSize ?? 5,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ["All"],
          }),
        ));
      } catch (error) {
        if (!this.running) return;
        this.options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      if (messages.length === 0) continue;
      const invocation = this.deliver(messages).finally(() => this.inFlight.delete(invocation));
      this.inFlight.add(invocation);
    }
  }

  private async deliver(messages: Message[]): Promise<void> {
    const records = messages.map((m) => this.toRecord(m));
    let failedIds: Set<string>;
    try {
      const response = await this.options.invoke({ Records: records });
      failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (error) {
      // A failed invocation fails the whole batch: nothing is deleted.
      this.options.onError?.(error);
      return;
    }
    const done = records.filter((r) => !failedIds.has(r.messageId));
    if (done.length === 0) return;
    await this.options.client
      .send(new DeleteMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })) }))
      .catch((error: unknown) => this.options.onError?.(error));
  }

  private toRecord(message: Message): SQSRecord {
    const attributes = message.Attributes ?? {};
    return {
      messageId: message.MessageId ?? "",
      receiptHandle: message.ReceiptHandle ?? "",
      body: message.Body ?? "",
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
        SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
        SenderId: attributes.SenderId ?? "local",
        ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
        MessageGroupId: attributes.MessageGroupId,
        MessageDeduplicationId: attributes.MessageDeduplicationId,
        SequenceNumber: attributes.SequenceNumber,
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? "",
      eventSource: "aws:sqs",
      eventSourceARN: this.queueArn ?? "",
      awsRegion: this.options.region,
    };
  }
}
