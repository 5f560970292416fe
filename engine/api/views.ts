/** Records as the API shows them: ISO times, outputs resolved from the blob store. */
import { z } from "zod";
import type { Workflow } from "../core/workflow.js";
import type { BlobStore } from "../kernel/ports.js";
import { isBlobReference, type OutboxRecord, type WorkflowRunRecord, type WorkflowStageRecord } from "../kernel/records.js";
import type { EventView, RunSummary, RunView, StageView, WorkflowView } from "./types.js";

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

/** Large values live in the blob store; the API always answers with the value itself. */
export async function resolveStored(value: unknown, blobStore: BlobStore): Promise<unknown> {
  return isBlobReference(value) ? blobStore.get(value.$blob) : value;
}

export function runSummary(run: WorkflowRunRecord): RunSummary {
  return {
    id: run.id,
    workflowId: run.workflowId,
    workflowName: run.workflowName,
    status: run.status,
    priority: run.priority,
    createdAt: run.createdAt.toISOString(),
    updatedAt: run.updatedAt.toISOString(),
    startedAt: iso(run.startedAt),
    completedAt: iso(run.completedAt),
    duration: run.duration,
    totalCost: run.totalCost,
    totalTokens: run.totalTokens,
    currentGroup: run.currentGroup,
    errorMessage: run.errorMessage,
    metadata: run.metadata,
  };
}

export async function runView(run: WorkflowRunRecord, blobStore: BlobStore): Promise<RunView> {
  const [input, output] = await Promise.all([resolveStored(run.input, blobStore), resolveStored(run.output, blobStore)]);
  return { ...runSummary(run), input, output: output ?? null };
}

export async function stageView(stage: WorkflowStageRecord, blobStore: BlobStore): Promise<StageView> {
  return {
    stageId: stage.stageId,
    stageName: stage.stageName,
    stageNumber: stage.stageNumber,
    executionGroup: stage.executionGroup,
    status: stage.status,
    attempt: stage.attempt,
    startedAt: iso(stage.startedAt),
    completedAt: iso(stage.completedAt),
    duration: stage.duration,
    output: (await resolveStored(stage.outputData, blobStore)) ?? null,
    nextPollAt: iso(stage.nextPollAt),
    metrics: stage.metrics,
    errorMessage: stage.errorMessage,
  };
}

export function eventView(event: OutboxRecord): EventView {
  return {
    id: event.id,
    sequence: event.sequence,
    type: event.eventType,
    occurredAt: event.occurredAt.toISOString(),
    payload: event.payload,
    publishedAt: iso(event.publishedAt),
  };
}

export function workflowView(workflow: Workflow): WorkflowView {
  return { ...workflow.describe(), inputSchema: inputJsonSchema(workflow) };
}

/** JSON Schema of the input; null for schemas zod cannot express (e.g. transforms). */
function inputJsonSchema(workflow: Workflow): Record<string, unknown> | null {
  try {
    return z.toJSONSchema(workflow.inputSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  } catch {
    return null;
  }
}
