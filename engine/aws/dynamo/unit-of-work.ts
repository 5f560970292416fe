import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { PersistenceConflictError } from "../../kernel/errors.js";
import { DYNAMO_LIMITS } from "../definitions.js";
import { ExpressionBuilder, type Condition } from "./expression.js";
import { TransactionTooLargeError, mapDynamoError } from "./errors.js";
import type { ItemKey } from "./keys.js";
import type { LargeItemGuard } from "./large-items.js";
import type { RunGate } from "./run-gate.js";

export type Item = Record<string, unknown>;

/** Changes an update makes to an item, computed by the caller from the item it read. */
export interface ItemUpdate {
  set?: Item;
  remove?: readonly string[];
  add?: Record<string, number>;
  /** Conditions on the committed item; dropped for attributes this unit of work already changed. */
  conditions?: readonly Condition[];
}

interface Change {
  key: ItemKey;
  mode: "put" | "update" | "delete";
  /** Item as it will be after commit; null when deleted. */
  working: Item | null;
  set: Set<string>;
  remove: Set<string>;
  add: Map<string, number>;
  conditions: Condition[];
}

const keyString = (key: ItemKey): string => `${key.pk}\u0000${key.sk}`;

function attrsOf(condition: Condition): string[] {
  return "or" in condition ? condition.or.flatMap(attrsOf) : [condition.attr];
}

/** Shared plumbing of one persistence instance. */
export interface DynamoContext {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly largeItems: LargeItemGuard;
  /** Queues this instance's transactions per run (see RunGate); none when turned off. */
  readonly runGate?: RunGate;
}

/**
 * Buffers a transaction's writes and commits them with one request: a single Put/Update/Delete
 * when one item changed, else one TransactWriteItems (so a single-item write never pays the
 * transaction's double capacity). Several changes to one item merge into one operation, because
 * TransactWriteItems allows one operation per item. Reads see committed state plus own writes.
 */
export class UnitOfWork {
  private readonly changes = new Map<string, Change>();
  private readonly afterCommitTasks: (() => Promise<void>)[] = [];
  /**
   * Committed items and query results already read by this unit. A transaction reads the run and
   * stage, then updates them: the update works from the same snapshot instead of reading again
   * (the write's conditions, not a second read, are what guard against concurrent changes).
   */
  private readonly readCache = new Map<string, Item | null>();
  private readonly queryCache = new Map<string, Item[]>();

  /** Entry into this unit's run gate (see RunGate), shared by reads issued concurrently. */
  private gateEntry?: Promise<void>;

  /**
   * @param enterRunGate called before the unit's first read of a run's partition (`RUN#…`), so
   *   transactions of one run in this process take turns instead of conflicting.
   */
  constructor(
    private readonly ctx: DynamoContext,
    private readonly enterRunGate?: (pk: string) => Promise<void>,
  ) {}

  private async gate(pk: string): Promise<void> {
    if (!this.enterRunGate || !pk.startsWith("RUN#")) return;
    this.gateEntry ??= this.enterRunGate(pk);
    await this.gateEntry;
  }

  get isEmpty(): boolean {
    return this.changes.size === 0 && this.afterCommitTasks.length === 0;
  }

  // Reads --------------------------------------------------------------------------------------

  /** Strongly consistent read, overlaid with this unit's own writes. Offloaded fields stay markers. */
  async read(key: ItemKey): Promise<Item | null> {
    const id = keyString(key);
    const change = this.changes.get(id);
    if (change) return change.working ? { ...change.working } : null;
    if (this.readCache.has(id)) {
      const cached = this.readCache.get(id);
      return cached ? { ...cached } : null;
    }
    await this.gate(key.pk);
    try {
      const { Item } = await this.ctx.client.send(
        new GetCommand({ TableName: this.ctx.tableName, Key: key, ConsistentRead: true }),
      );
      this.readCache.set(id, Item ?? null);
      return Item ? { ...Item } : null;
    } catch (error) {
      throw mapDynamoError(error, this.ctx.tableName, `Read of ${key.pk} ${key.sk}`);
    }
  }

  /** Items of one partition whose sort key starts with `skPrefix`, in key order, overlaid with own writes. */
  async query(pk: string, skPrefix: string, options: { afterSk?: string; limit?: number; descending?: boolean } = {}): Promise<Item[]> {
    const cacheKey = JSON.stringify([pk, skPrefix, options]);
    let committed = this.queryCache.get(cacheKey);
    if (!committed) {
      await this.gate(pk);
      committed = await queryPartition(this.ctx, pk, skPrefix, options);
      this.queryCache.set(cacheKey, committed);
      for (const item of committed) this.readCache.set(keyString({ pk: item.pk as string, sk: item.sk as string }), item);
    }
    committed = committed.map((item) => ({ ...item }));
    const own = [...this.changes.values()].filter(
      (c) => c.key.pk === pk && c.key.sk.startsWith(skPrefix) && (!options.afterSk || c.key.sk > options.afterSk),
    );
    if (own.length === 0) return committed;
    const bySk = new Map(committed.map((item) => [item.sk as string, item]));
    for (const change of own) {
      if (change.working) bySk.set(change.key.sk, { ...change.working });
      else bySk.delete(change.key.sk);
    }
    const items = [...bySk.values()].sort((a, b) => ((a.sk as string) < (b.sk as string) ? -1 : 1));
    if (options.descending) items.reverse();
    return options.limit ? items.slice(0, options.limit) : items;
  }

  // Writes -------------------------------------------------------------------------------------

  /** Creates an item; the commit fails with a conflict if it exists (unless this unit deleted it). */
  create(key: ItemKey, item: Item): Item {
    const id = keyString(key);
    const existing = this.changes.get(id);
    const full = { ...item, ...key };
    if (existing?.working) throw new PersistenceConflictError(`Item ${key.pk} ${key.sk} already exists`);
    if (existing) {
      existing.mode = "put";
      existing.working = full;
      return { ...full };
    }
    this.changes.set(id, {
      key,
      mode: "put",
      working: full,
      set: new Set(),
      remove: new Set(),
      add: new Map(),
      conditions: [{ attr: "pk", op: "not_exists" }],
    });
    return { ...full };
  }

  /** The item as this unit will write it, if this unit changes it (no read). */
  pending(key: ItemKey): Item | null | undefined {
    const change = this.changes.get(keyString(key));
    return change ? (change.working ? { ...change.working } : null) : undefined;
  }

  /** Writes an item whether or not it exists (for records whose rewrite is harmless). */
  put(key: ItemKey, item: Item): void {
    const id = keyString(key);
    this.changes.set(id, { key, mode: "put", working: { ...item, ...key }, set: new Set(), remove: new Set(), add: new Map(), conditions: [] });
  }

  /**
   * Applies an update to an item the caller read through this unit (`current`), and returns the
   * item as it will be after commit. The commit holds only if the item still exists and the
   * given conditions hold on the committed item.
   */
  update(key: ItemKey, current: Item, update: ItemUpdate): Item {
    const id = keyString(key);
    let change = this.changes.get(id);
    if (!change) {
      change = {
        key,
        mode: "update",
        working: { ...current },
        set: new Set(),
        remove: new Set(),
        add: new Map(),
        conditions: [{ attr: "pk", op: "exists" }],
      };
      this.changes.set(id, change);
    }
    const working = change.working ?? { ...current };
    for (const condition of update.conditions ?? []) {
      const touched = attrsOf(condition).some((attr) => change.set.has(attr) || change.remove.has(attr) || change.add.has(attr));
      if (!touched && change.mode !== "put") change.conditions.push(condition);
    }
    for (const [attr, value] of Object.entries(update.set ?? {})) {
      if (value === undefined) continue;
      working[attr] = value;
      change.set.add(attr);
      change.remove.delete(attr);
      change.add.delete(attr);
    }
    for (const attr of update.remove ?? []) {
      delete working[attr];
      change.remove.add(attr);
      change.set.delete(attr);
      change.add.delete(attr);
    }
    for (const [attr, delta] of Object.entries(update.add ?? {})) {
      working[attr] = (typeof working[attr] === "number" ? (working[attr] as number) : 0) + delta;
      if (change.set.has(attr)) continue;
      change.remove.delete(attr);
      change.add.set(attr, (change.add.get(attr) ?? 0) + delta);
    }
    change.working = working;
    return { ...working };
  }

  /** Deletes an item (no error if it does not exist). */
  delete(key: ItemKey, conditions: readonly Condition[] = []): void {
    const id = keyString(key);
    const change = this.changes.get(id);
    if (change) {
      change.mode = "delete";
      change.working = null;
      const first = change.conditions[0];
      if (first && "attr" in first && first.attr === "pk" && first.op === "not_exists") {
        // Created and deleted in the same unit: nothing to write.
        this.changes.delete(id);
      }
      return;
    }
    this.changes.set(id, { key, mode: "delete", working: null, set: new Set(), remove: new Set(), add: new Map(), conditions: [...conditions] });
  }

  /** Work that runs only once the commit succeeded (e.g. logs, which need no atomicity). */
  afterCommit(task: () => Promise<void>): void {
    this.afterCommitTasks.push(task);
  }

  // Commit -------------------------------------------------------------------------------------

  async commit(): Promise<void> {
    const changes = [...this.changes.values()];
    this.changes.clear();
    if (changes.length > DYNAMO_LIMITS.maxTransactItems) {
      throw new TransactionTooLargeError(changes.length, DYNAMO_LIMITS.maxTransactItems);
    }
    for (const change of changes) {
      if (change.working) await this.ctx.largeItems.guard(change.key, change.working, change.mode === "put" ? null : change.set);
    }
    const operations = changes.map((change) => this.toOperation(change));
    const what = changes.length === 1 ? `Write of ${changes[0].key.pk} ${changes[0].key.sk}` : `Transaction of ${changes.length} items`;
    try {
      if (operations.length === 1) {
        await this.sendSingle(operations[0]);
      } else if (operations.length > 1) {
        await this.ctx.client.send(new TransactWriteCommand({ TransactItems: operations.map((op) => ({ [op.type]: op.input })) }));
      }
    } catch (error) {
      throw mapDynamoError(error, this.ctx.tableName, what);
    }
    const tasks = this.afterCommitTasks.splice(0);
    for (const task of tasks) await task();
  }

  private async sendSingle(operation: Operation): Promise<void> {
    const { client } = this.ctx;
    if (operation.type === "Put") await client.send(new PutCommand(operation.input));
    else if (operation.type === "Update") await client.send(new UpdateCommand(operation.input));
    else await client.send(new DeleteCommand(operation.input));
  }

  private toOperation(change: Change): Operation {
    const expression = new ExpressionBuilder();
    const ConditionExpression = expression.conditions(change.conditions);
    const base = { TableName: this.ctx.tableName, ConditionExpression };
    if (change.mode === "put") {
      return {
        type: "Put",
        input: {
          ...base,
          Item: change.working ?? {},
          ExpressionAttributeNames: expression.expressionAttributeNames,
          ExpressionAttributeValues: expression.expressionAttributeValues,
        },
      };
    }
    if (change.mode === "delete") {
      return {
        type: "Delete",
        input: {
          ...base,
          Key: change.key,
          ExpressionAttributeNames: expression.expressionAttributeNames,
          ExpressionAttributeValues: expression.expressionAttributeValues,
        },
      };
    }
    const working = change.working ?? {};
    const clauses: string[] = [];
    const sets = [...change.set].map((attr) => `${expression.name(attr)} = ${expression.value(working[attr])}`);
    if (sets.length) clauses.push(`SET ${sets.join(", ")}`);
    const removes = [...change.remove].map((attr) => expression.name(attr));
    if (removes.length) clauses.push(`REMOVE ${removes.join(", ")}`);
    const adds = [...change.add].map(([attr, delta]) => `${expression.name(attr)} ${expression.value(delta)}`);
    if (adds.length) clauses.push(`ADD ${adds.join(", ")}`);
    return {
      type: "Update",
      input: {
        ...base,
        Key: change.key,
        UpdateExpression: clauses.join(" ") || undefined,
        ExpressionAttributeNames: expression.expressionAttributeNames,
        ExpressionAttributeValues: expression.expressionAttributeValues,
      },
    };
  }
}

type Operation =
  | { type: "Put"; input: ConstructorParameters<typeof PutCommand>[0] }
  | { type: "Update"; input: ConstructorParameters<typeof UpdateCommand>[0] }
  | { type: "Delete"; input: ConstructorParameters<typeof DeleteCommand>[0] };

/** Strongly consistent query of one partition by sort-key prefix, following pages up to `limit`. */
export async function queryPartition(
  ctx: DynamoContext,
  pk: string,
  skPrefix: string,
  options: { afterSk?: string; limit?: number; descending?: boolean } = {},
): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  const expression = new ExpressionBuilder();
  const keyCondition = options.afterSk
    ? `${expression.name("pk")} = ${expression.value(pk)} AND ${expression.name("sk")} BETWEEN ${expression.value(options.afterSk + "\u0000")} AND ${expression.value(skPrefix + "\uffff")}`
    : `${expression.name("pk")} = ${expression.value(pk)} AND begins_with(${expression.name("sk")}, ${expression.value(skPrefix)})`;
  try {
    do {
      const page = await ctx.client.send(
        new QueryCommand({
          TableName: ctx.tableName,
          KeyConditionExpression: keyCondition,
          ExpressionAttributeNames: expression.names,
          ExpressionAttributeValues: expression.values,
          ConsistentRead: true,
          ScanIndexForward: !options.descending,
          ExclusiveStartKey: startKey,
          Limit: options.limit ? Math.min(1000, options.limit - items.length) : undefined,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey && (!options.limit || items.length < options.limit));
  } catch (error) {
    throw mapDynamoError(error, ctx.tableName, `Query of ${pk} ${skPrefix}`);
  }
  return items;
}
