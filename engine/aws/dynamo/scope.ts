import type { Clock } from "../../kernel/ports.js";
import type { WriteConditions } from "../../kernel/records.js";
import type { Condition } from "./expression.js";
import type { DynamoContext, UnitOfWork } from "./unit-of-work.js";

/** What an access-pattern function works with: the unit of work it writes into, the table, the clock. */
export interface Scope {
  readonly uow: UnitOfWork;
  readonly ctx: DynamoContext;
  readonly clock: Clock;
}

/** The write conditions of a patch as conditions on the committed item. */
export function writeConditions(patch: WriteConditions & { expectedAttempt?: number }): Condition[] {
  const conditions: Condition[] = [];
  if (patch.expectedVersion !== undefined) conditions.push({ attr: "version", op: "=", value: patch.expectedVersion });
  if (patch.expectedStatus !== undefined) {
    const allowed = typeof patch.expectedStatus === "string" ? [patch.expectedStatus] : [...patch.expectedStatus];
    conditions.push({ attr: "status", op: "in", values: allowed });
  }
  if (patch.expectedAttempt !== undefined) conditions.push({ attr: "attempt", op: "=", value: patch.expectedAttempt });
  return conditions;
}

/** Checks the same conditions on the item as read (a conflict shows at once, not only at commit). */
export function conditionsHoldOn(item: Record<string, unknown>, patch: WriteConditions & { expectedAttempt?: number }): boolean {
  if (patch.expectedVersion !== undefined && item.version !== patch.expectedVersion) return false;
  if (patch.expectedStatus !== undefined) {
    const allowed: readonly string[] = typeof patch.expectedStatus === "string" ? [patch.expectedStatus] : patch.expectedStatus;
    if (!allowed.includes(item.status as string)) return false;
  }
  if (patch.expectedAttempt !== undefined && item.attempt !== patch.expectedAttempt) return false;
  return true;
}

export function describeConditions(patch: WriteConditions & { expectedAttempt?: number }): string {
  return JSON.stringify({
    expectedVersion: patch.expectedVersion,
    expectedStatus: patch.expectedStatus,
    expectedAttempt: patch.expectedAttempt,
  });
}
