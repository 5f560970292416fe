/** What the persistence suite needs from an adapter, and builders for its inputs. */
import type { Persistence } from "../../../kernel/ports.js";
import type {
  CreateOutboxEventInput,
  CreateRunInput,
  CreateStageInput,
  WorkflowRunRecord,
} from "../../../kernel/records.js";
import { uniqueId } from "../support.js";
import type { ConformanceClock } from "../types.js";

/** A fresh adapter for one case. */
export interface PersistenceConformanceFixture {
  persistence: Persistence;
  /** The clock the adapter stamps `createdAt` / `updatedAt` with. */
  clock: ConformanceClock;
  /** Called after the case, pass or fail. */
  cleanup?: () => void | Promise<void>;
}

export function runInput(overrides: Partial<CreateRunInput> = {}): CreateRunInput {
  return {
    id: uniqueId("run"),
    workflowId: uniqueId("wf"),
    workflowName: "Conformance workflow",
    workflowType: "conformance",
    status: "PENDING",
    input: { document: "hello", pages: [1, 2, 3], nested: { ok: true } },
    config: { extract: { maxLength: 100 } },
    priority: 5,
    ...overrides,
  };
}

export function stageInput(workflowRunId: string, overrides: Partial<CreateStageInput> = {}): CreateStageInput {
  return {
    workflowRunId,
    stageId: uniqueId("stage"),
    stageName: "Conformance stage",
    stageNumber: 1,
    executionGroup: 1,
    status: "PENDING",
    ...overrides,
  };
}

export function eventInput(workflowRunId: string, label: string, occurredAt: Date): CreateOutboxEventInput {
  return {
    workflowRunId,
    eventType: "conformance:event",
    payload: { label, nested: { list: [1, "two"] } },
    causationId: uniqueId("cmd"),
    occurredAt,
  };
}

export async function createRun(
  fixture: PersistenceConformanceFixture,
  overrides: Partial<CreateRunInput> = {},
): Promise<WorkflowRunRecord> {
  return fixture.persistence.createRun(runInput(overrides));
}

/** Appends `count` events for a run, labelled `<prefix>-1`, `<prefix>-2`, ... */
export function eventInputs(
  fixture: PersistenceConformanceFixture,
  workflowRunId: string,
  prefix: string,
  count: number,
): CreateOutboxEventInput[] {
  return Array.from({ length: count }, (_, i) => eventInput(workflowRunId, `${prefix}-${i + 1}`, fixture.clock.now()));
}
