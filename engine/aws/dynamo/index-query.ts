import { BatchGetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { ExpressionBuilder } from "./expression.js";
import { mapDynamoError } from "./errors.js";
import type { ItemKey } from "./keys.js";
import type { DynamoContext, Item } from "./unit-of-work.js";

/** Keys found in a keys-only index, with the index sort key for merging shards. */
export interface IndexHit {
  key: ItemKey;
  indexSk: string;
  /** The raw index entry, usable as ExclusiveStartKey. */
  raw: Item;
}

export interface IndexQuery {
  indexName: string;
  pkAttr: string;
  skAttr: string;
  pk: string;
  /** Inclusive bounds on the index sort key. */
  skFrom?: string;
  skTo?: string;
  descending?: boolean;
  limit?: number;
  startKey?: Item;
}

/** One page of an index query. */
export async function queryIndexPage(ctx: DynamoContext, q: IndexQuery): Promise<{ hits: IndexHit[]; lastKey?: Item }> {
  const e = new ExpressionBuilder();
  let keyCondition = `${e.name(q.pkAttr)} = ${e.value(q.pk)}`;
  if (q.skFrom !== undefined && q.skTo !== undefined) {
    keyCondition += ` AND ${e.name(q.skAttr)} BETWEEN ${e.value(q.skFrom)} AND ${e.value(q.skTo)}`;
  } else if (q.skTo !== undefined) {
    keyCondition += ` AND ${e.name(q.skAttr)} <= ${e.value(q.skTo)}`;
  } else if (q.skFrom !== undefined) {
    keyCondition += ` AND ${e.name(q.skAttr)} >= ${e.value(q.skFrom)}`;
  }
  try {
    const page = await ctx.client.send(
      new QueryCommand({
        TableName: ctx.tableName,
        IndexName: q.indexName,
        KeyConditionExpression: keyCondition,
        ExpressionAttributeNames: e.names,
        ExpressionAttributeValues: e.values,
        ScanIndexForward: !q.descending,
        Limit: q.limit,
        ExclusiveStartKey: q.startKey,
      }),
    );
    const hits = (page.Items ?? []).map((raw) => ({
      key: { pk: raw.pk as string, sk: raw.sk as string },
      indexSk: raw[q.skAttr] as string,
      raw,
    }));
    return { hits, lastKey: page.LastEvaluatedKey };
  } catch (error) {
    throw mapDynamoError(error, ctx.tableName, `Query of index ${q.indexName} ${q.pk}`);
  }
}

/** Up to `limit` hits of one index partition, following pages. */
export async function queryIndex(ctx: DynamoContext, q: IndexQuery): Promise<IndexHit[]> {
  const hits: IndexHit[] = [];
  let startKey = q.startKey;
  do {
    const page = await queryIndexPage(ctx, {
      ...q,
      startKey,
      limit: q.limit !== undefined ? Math.min(1000, q.limit - hits.length) : undefined,
    });
    hits.push(...page.hits);
    startKey = page.lastKey;
  } while (startKey && (q.limit === undefined || hits.length < q.limit));
  return hits;
}

/** Queries several shard partitions and merges them by index sort key. */
export async function queryShards(ctx: DynamoContext, pks: readonly string[], q: Omit<IndexQuery, "pk">): Promise<IndexHit[]> {
  const pages = await Promise.all(pks.map((pk) => queryIndex(ctx, { ...q, pk })));
  const merged = pages.flat().sort((a, b) => (a.indexSk < b.indexSk ? -1 : a.indexSk > b.indexSk ? 1 : 0));
  if (q.descending) merged.reverse();
  return q.limit !== undefined ? merged.slice(0, q.limit) : merged;
}

/** Strongly consistent BatchGetItem of many keys (100 per request, unprocessed keys retried), in key order given. */
export async function batchGet(ctx: DynamoContext, keys: readonly ItemKey[]): Promise<(Item | null)[]> {
  const found = new Map<string, Item>();
  const id = (k: { pk: unknown; sk: unknown }) => `${String(k.pk)}\u0000${String(k.sk)}`;
  const unique = [...new Map(keys.map((k) => [id(k), k])).values()];
  for (let i = 0; i < unique.length; i += 100) {
    let pending: Record<string, unknown>[] = unique.slice(i, i + 100).map((k) => ({ pk: k.pk, sk: k.sk }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      try {
        const result = await ctx.client.send(
          new BatchGetCommand({ RequestItems: { [ctx.tableName]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of result.Responses?.[ctx.tableName] ?? []) found.set(id(item as ItemKey), item);
        pending = (result.UnprocessedKeys?.[ctx.tableName]?.Keys ?? []) as Record<string, unknown>[];
      } catch (error) {
        throw mapDynamoError(error, ctx.tableName, "BatchGetItem");
      }
      if (pending.length) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
    }
  }
  return keys.map((k) => found.get(id(k)) ?? null);
}
