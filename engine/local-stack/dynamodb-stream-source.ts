import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { signRequest } from "../client/signing.js";

export interface DynamoStreamSourceOptions {
  /** DynamoDB Local's endpoint (it serves the Streams API too). */
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  tableName: string;
  /** Invokes the function with a stream event, as Lambda's event source mapping does. */
  invoke: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  /** Only records this returns true for are delivered (the mapping's filter criteria). */
  filter?: (record: DynamoDBRecord) => boolean;
  /** @default 100 */
  batchSize?: number;
  /** A batch that keeps failing is given up after this many retries (the mapping's retryAttempts). @default 10 */
  maxRetries?: number;
  /** @default 200 */
  pollIntervalMs?: number;
  onError?: (error: unknown) => void;
}

interface ShardState {
  iterator: string | null;
  /** Records received but not yet delivered successfully, in stream order. */
  pending: DynamoDBRecord[];
  retries: number;
}

/**
 * Lambda's DynamoDB Streams event source mapping, in-process: reads every shard of the table's
 * stream in order, invokes the function with batches of records, and on a reported item failure
 * retries from that record, one batch at a time per shard, exactly like the mapping with
 * ReportBatchItemFailures and a parallelization factor of 1.
 */
export class DynamoStreamSource {
  private running = false;
  private loop?: Promise<void>;
  private streamArn?: string;
  private readonly shards = new Map<string, ShardState>();
  /** Closed shards read to their end; DescribeStream keeps listing them. */
  private readonly finished = new Set<string>();

  constructor(private readonly options: DynamoStreamSourceOptions) {}

  async start(): Promise<void> {
    const table = await this.call<{ Table: { LatestStreamArn?: string } }>("DynamoDB_20120810.DescribeTable", { TableName: this.options.tableName });
    if (!table.Table.LatestStreamArn) throw new Error(`Table ${this.options.tableName} has no stream; create it from buildCreateTableInput()`);
    this.streamArn = table.Table.LatestStreamArn;
    this.running = true;
    this.loop = this.poll();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async poll(): Promise<void> {
    let lastDescribe = 0;
    while (this.running) {
      try {
        if (Date.now() - lastDescribe > 1_000) {
          await this.discoverShards();
          lastDescribe = Date.now();
        }
        for (const [shardId, shard] of this.shards) await this.pump(shardId, shard);
      } catch (error) {
        if (this.running) this.options.onError?.(error);
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.pollIntervalMs ?? 200));
    }
  }

  private async discoverShards(): Promise<void> {
    const { StreamDescription } = await this.call<{ StreamDescription: { Shards?: { ShardId: string }[] } }>("DynamoDBStreams_20120810.DescribeStream", { StreamArn: this.streamArn });
    for (const { ShardId } of StreamDescription.Shards ?? []) {
      if (this.shards.has(ShardId) || this.finished.has(ShardId)) continue;
      const { ShardIterator } = await this.call<{ ShardIterator: string }>("DynamoDBStreams_20120810.GetShardIterator", {
        StreamArn: this.streamArn,
        ShardId,
        ShardIteratorType: "TRIM_HORIZON",
      });
      this.shards.set(ShardId, { iterator: ShardIterator, pending: [], retries: 0 });
    }
  }

  private async pump(shardId: string, shard: ShardState): Promise<void> {
    if (shard.pending.length === 0 && shard.iterator) {
      const result = await this.call<{ Records?: DynamoDBRecord[]; NextShardIterator?: string }>("DynamoDBStreams_20120810.GetRecords", { ShardIterator: shard.iterator, Limit: 1000 });
      shard.iterator = result.NextShardIterator ?? null;
      const filter = this.options.filter ?? (() => true);
      shard.pending.push(...(result.Records ?? []).map((r) => ({ ...r, eventSourceARN: this.streamArn })).filter(filter));
    }
    while (shard.pending.length > 0 && this.running) {
      const batch = shard.pending.slice(0, this.options.batchSize ?? 100);
      let failedAt = -1;
      try {
        const response = await this.options.invoke({ Records: batch });
        const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        failedAt = batch.findIndex((r) => failed.has(r.dynamodb?.SequenceNumber ?? ""));
      } catch (error) {
        this.options.onError?.(error);
        failedAt = 0;
      }
      if (failedAt === -1) {
        shard.pending.splice(0, batch.length);
        shard.retries = 0;
        continue;
      }
      shard.pending.splice(0, failedAt);
      if (++shard.retries > (this.options.maxRetries ?? 10)) {
        // Given up, like the mapping after its retries; the outbox flush publishes these later.
        this.options.onError?.(new Error(`Stream batch on shard ${shardId} failed ${shard.retries - 1} times; skipping ${batch.length - failedAt} records`));
        shard.pending.splice(0, batch.length - failedAt);
        shard.retries = 0;
      }
      return; // retry on the next poll, after the interval
    }
    if (!shard.iterator && shard.pending.length === 0) {
      this.shards.delete(shardId);
      this.finished.add(shardId);
    }
  }

  /** DynamoDB Local serves the Streams API on the same endpoint; no SDK client is needed for four calls. */
  private async call<T>(target: string, body: unknown): Promise<T> {
    const url = new URL(this.options.endpoint);
    const payload = JSON.stringify(body);
    const headers = await signRequest(
      { method: "POST", url, headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": target }, body: payload },
      { region: this.options.region, credentials: this.options.credentials, service: "dynamodb" },
    );
    const response = await fetch(url, { method: "POST", headers, body: payload });
    const text = await response.text();
    if (!response.ok) throw new Error(`${target} failed: HTTP ${response.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }
}
