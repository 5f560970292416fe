import { createHash } from "node:crypto";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Clock, DequeueResult, EnqueueJobInput, JobTransport } from "../../kernel/ports.js";
import { QUEUES_DEFINITION, QUEUE_PRIORITIES, priorityLane, type QueuePriority } from "../definitions.js";
import { mapSqsError } from "./errors.js";
import { systemClock } from "../../kernel/system-clock.js";


/** SQS's ceiling for a message's visibility timeout. */
const MAX_VISIBILITY_SECONDS = 12 * 3600;

/** What travels in a message body. */
interface JobMessage {
  workflowRunId: string;
  workflowId: string;
  stageId: string;
  attempt: number;
  priority: number;
  payload: Record<string, unknown>;
  /** Epoch ms before which the job must not run (scheduledFor, suspend). */
  notBefore?: number;
}

interface Lease {
  queueUrl: string;
  receiptHandle: string;
  message: JobMessage;
}

export interface SqsJobTransportOptions {
  client: SQSClient;
  /** FIFO queue URL per lane (the DLQ is wired by the queues' redrive policy, not here). */
  queueUrls: Readonly<Record<QueuePriority, string>>;
  /** @default system clock */
  clock?: Clock;
  /** Lease of a received job; touchJob extends it by this much. @default QUEUES_DEFINITION visibility (60 s) */
  visibilityTimeoutSeconds?: number;
  /**
   * Long-poll wait (0–20 s) on `longPollLane` when the lanes before it are empty: an idle worker
   * then waits inside one receive instead of polling, and a new job is picked up the moment it
   * arrives. @default 0 (short polls only)
   */
  waitTimeSeconds?: number;
  /** The lane an idle worker long-polls; most jobs have the default priority. @default "normal" */
  longPollLane?: QueuePriority;
  /**
   * A lane found empty is not asked again for this long, so an idle lane does not cost one
   * receive per dequeue. A job arriving there waits at most this long. @default 250
   */
  emptyLaneRecheckMs?: number;
  /**
   * How many jobs the caller runs at once (the node host's `concurrency`). A receive then asks SQS
   * for as many messages as there are free slots (up to 10): jobs handed out and not yet completed,
   * failed or suspended count as busy. The extra messages wait in this transport for the next
   * `dequeue()`, which the host makes at once while it has free slots, so no message is held back
   * from other workers for longer than a dequeue loop turn. Fewer receives per job; 1 means one
   * message per receive. @default 1
   */
  maxInFlight?: number;
  /**
   * Tells whether a run was cancelled, so a worker in another process drops that run's jobs.
   * `cancelByRun` on this instance is always honoured. @default none
   */
  isRunCancelled?: (workflowRunId: string) => Promise<boolean>;
}

/** An SQS record as a Lambda event source mapping delivers it. */
export interface SqsRecordLike {
  body: string;
  receiptHandle: string;
  /** Queue ARN (`arn:aws:sqs:<region>:<account>:<name>`). */
  eventSourceARN: string;
}

/** The SQS transport, plus what a Lambda worker needs to hand it messages it did not dequeue. */
export interface SqsJobTransport extends JobTransport {
  /** Registers a message delivered by a Lambda event source, so touchJob/complete/fail work on it. */
  fromSqsRecord(record: SqsRecordLike): DequeueResult;
}

/** Job id = (run, stage, attempt): the same nudge always has the same id. */
function jobIdOf(job: Pick<JobMessage, "workflowRunId" | "stageId" | "attempt">): string {
  return `${job.workflowRunId}:${job.stageId}:${job.attempt}`;
}

/** SQS ids allow 128 characters of [A-Za-z0-9!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~]; longer ones are hashed. */
function sqsId(value: string): string {
  return value.length <= 128 && /^[\x21-\x7e]+$/.test(value) ? value : createHash("sha256").update(value).digest("hex");
}

/**
 * JobTransport on SQS FIFO queues, one per priority lane (high / normal / low), read in that order.
 *
 * - De-duplication id = (run, stage, attempt): a double enqueue within SQS's 5-minute window is
 *   delivered once; the kernel's fencing token covers anything later.
 * - Message group = (run, stage): FIFO lets one message per group be in flight, so stages of a
 *   run (and different runs) never block each other.
 * - FIFO queues have no per-message delay. `scheduledFor` travels in the body; a worker that
 *   receives a job early hides it again (ChangeMessageVisibility) until it is due. `suspend`
 *   deletes the message and sends a fresh one due at `nextPollAt`, so long suspensions never
 *   eat into the DLQ's receive count.
 * - `fail(…, true)` makes the message visible again; after `maxReceiveCount` receives the queue's
 *   redrive policy moves it to the DLQ (poison message).
 * - `cancelByRun` deletes nothing: workers drop that run's messages when they receive them.
 *
 * @example
 * ```ts
 * const transport = createSqsJobTransport({
 *   client: new SQSClient({}),
 *   queueUrls: { high: process.env.STAGEFLOW_QUEUE_URL_HIGH!, normal: ..., low: ... },
 * });
 * ```
 */
export function createSqsJobTransport(options: SqsJobTransportOptions): SqsJobTransport {
  const { client } = options;
  const clock = options.clock ?? systemClock;
  const visibility = options.visibilityTimeoutSeconds ?? QUEUES_DEFINITION.jobQueues.normal.visibilityTimeoutSeconds;
  const leases = new Map<string, Lease>();
  const longPollLane = options.longPollLane ?? "normal";
  const recheckMs = options.emptyLaneRecheckMs ?? 250;
  /** Lane → time (ms, real) until which it counts as empty. */
  const emptyUntil = new Map<QueuePriority, number>();
  const cancelledRuns = new Set<string>();
  const maxInFlight = Math.max(1, Math.floor(options.maxInFlight ?? 1));
  /** Received and accepted, not handed out yet (only when a receive returned more than one). */
  const buffered: DequeueResult[] = [];
  const arnToUrl = new Map<string, string>();
  for (const lane of QUEUE_PRIORITIES) {
    const url = options.queueUrls[lane];
    if (!url) throw new TypeError(`createSqsJobTransport: queueUrls.${lane} is required`);
    const name = url.split("/").pop() ?? url;
    arnToUrl.set(name, url);
  }

  const send = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw mapSqsError(error, what);
    }
  };

  function toMessage(job: EnqueueJobInput, notBefore?: number): JobMessage {
    return {
      workflowRunId: job.workflowRunId,
      workflowId: job.workflowId,
      stageId: job.stageId,
      attempt: job.attempt,
      priority: job.priority ?? 5,
      payload: job.payload ?? {},
      notBefore: notBefore ?? job.scheduledFor?.getTime(),
    };
  }

  /** A re-driven job may have been sent (and lost) within FIFO's 5-minute de-duplication window. */
  function redriveSuffix(job: EnqueueJobInput): string {
    return job.redrive ? `:r${Date.now().toString(36)}` : "";
  }

  function sendInput(message: JobMessage, dedupSuffix = "") {
    return {
      QueueUrl: options.queueUrls[priorityLane(message.priority)],
      MessageBody: JSON.stringify(message),
      MessageGroupId: sqsId(`${message.workflowRunId}:${message.stageId}`),
      MessageDeduplicationId: sqsId(jobIdOf(message) + dedupSuffix),
    };
  }

  function toResult(jobId: string, message: JobMessage): DequeueResult {
    return {
      jobId,
      workflowRunId: message.workflowRunId,
      workflowId: message.workflowId,
      stageId: message.stageId,
      priority: message.priority,
      attempt: message.attempt,
      maxAttempts: QUEUES_DEFINITION.maxReceiveCount,
      payload: message.payload,
    };
  }

  async function isCancelled(runId: string): Promise<boolean> {
    if (cancelledRuns.has(runId)) return true;
    return options.isRunCancelled ? options.isRunCancelled(runId) : false;
  }

  async function deleteMessage(queueUrl: string, receiptHandle: string): Promise<void> {
    await send("DeleteMessage", () => client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle })));
  }

  async function hide(queueUrl: string, receiptHandle: string, seconds: number): Promise<void> {
    await send("ChangeMessageVisibility", () =>
      client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: Math.max(0, Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(seconds))),
        }),
      ),
    );
  }

  /** Decides what to do with a received message: deliver it, drop it, or hide it until due. */
  async function accept(queueUrl: string, raw: Message): Promise<DequeueResult | null> {
    const receiptHandle = raw.ReceiptHandle ?? "";
    let message: JobMessage;
    try {
      message = JSON.parse(raw.Body ?? "") as JobMessage;
    } catch {
      // Not ours (or corrupt): leave it for the redrive policy to move to the DLQ.
      return null;
    }
    if (await isCancelled(message.workflowRunId)) {
      await deleteMessage(queueUrl, receiptHandle);
      return null;
    }
    const waitMs = (message.notBefore ?? 0) - clock.now().getTime();
    if (waitMs > 0) {
      await hide(queueUrl, receiptHandle, waitMs / 1000);
      return null;
    }
    const jobId = jobIdOf(message);
    leases.set(jobId, { queueUrl, receiptHandle, message });
    return toResult(jobId, message);
  }

  /** Messages one receive may ask for: free slots, at most SQS's 10. */
  function wanted(): number {
    return Math.max(1, Math.min(10, maxInFlight - (leases.size - buffered.length)));
  }

  /** One lane; the long-poll lane waits for a job only once the others were found empty. */
  async function receiveFrom(lane: QueuePriority): Promise<DequeueResult | null> {
    const queueUrl = options.queueUrls[lane];
    // Dropped (cancelled run) or not-yet-due messages do not end the search: look again.
    for (let round = 0; round < 10; round++) {
      const { Messages } = await send("ReceiveMessage", () =>
        client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: wanted(),
            VisibilityTimeout: visibility,
            WaitTimeSeconds: lane === longPollLane && round === 0 ? (options.waitTimeSeconds ?? 0) : 0,
          }),
        ),
      );
      if (!Messages?.length) {
        if (lane !== longPollLane) emptyUntil.set(lane, Date.now() + recheckMs);
        return null;
      }
      emptyUntil.delete(lane);
      const accepted = (await Promise.all(Messages.map((raw) => accept(queueUrl, raw)))).filter((job): job is DequeueResult => job !== null);
      if (accepted.length) {
        buffered.push(...accepted.slice(1));
        return accepted[0];
      }
    }
    return null;
  }

  function leaseOf(jobId: string): Lease | undefined {
    return leases.get(jobId);
  }

  const transport: SqsJobTransport = {
    async enqueue(job) {
      await send("SendMessage", () => client.send(new SendMessageCommand(sendInput(toMessage(job), redriveSuffix(job)))));
      return jobIdOf(job);
    },

    async enqueueParallel(jobs) {
      // One SendMessageBatch per lane and 10 messages: fewer requests, same de-duplication.
      const byLane = new Map<string, ReturnType<typeof sendInput>[]>();
      for (const job of jobs) {
        const input = sendInput(toMessage(job), redriveSuffix(job));
        byLane.set(input.QueueUrl, [...(byLane.get(input.QueueUrl) ?? []), input]);
      }
      for (const [queueUrl, inputs] of byLane) {
        for (let i = 0; i < inputs.length; i += 10) {
          const chunk = inputs.slice(i, i + 10);
          const result = await send("SendMessageBatch", () =>
            client.send(
              new SendMessageBatchCommand({
                QueueUrl: queueUrl,
                Entries: chunk.map((entry, index) => ({
                  Id: String(index),
                  MessageBody: entry.MessageBody,
                  MessageGroupId: entry.MessageGroupId,
                  MessageDeduplicationId: entry.MessageDeduplicationId,
                })),
              }),
            ),
          );
          for (const failed of result.Failed ?? []) {
            // Retry failed entries one by one: a partial batch failure must not lose a nudge.
            const entry = chunk[Number(failed.Id)];
            if (entry) await send("SendMessage", () => client.send(new SendMessageCommand(entry)));
          }
        }
      }
      return jobs.map(jobIdOf);
    },

    async dequeue() {
      const ready = buffered.shift();
      if (ready) return ready;
      for (const lane of QUEUE_PRIORITIES) {
        if ((emptyUntil.get(lane) ?? 0) > Date.now()) continue;
        const job = await receiveFrom(lane);
        if (job) return job;
      }
      return null;
    },

    async complete(jobId) {
      const lease = leaseOf(jobId);
      if (!lease) return;
      leases.delete(jobId);
      await deleteMessage(lease.queueUrl, lease.receiptHandle);
    },

    async suspend(jobId, nextPollAt) {
      const lease = leaseOf(jobId);
      if (!lease) return;
      leases.delete(jobId);
      const message = { ...lease.message, notBefore: nextPollAt.getTime() };
      // A fresh message (own de-duplication id) instead of a visibility change: its receive count
      // starts at zero, so a stage polled many times never lands in the DLQ.
      await send("SendMessage", () =>
        client.send(new SendMessageCommand(sendInput(message, `:wake:${nextPollAt.getTime()}`))),
      );
      await deleteMessage(lease.queueUrl, lease.receiptHandle);
    },

    async fail(jobId, _error, shouldRetry = true) {
      const lease = leaseOf(jobId);
      if (!lease) return;
      leases.delete(jobId);
      if (shouldRetry) await hide(lease.queueUrl, lease.receiptHandle, 0);
      else await deleteMessage(lease.queueUrl, lease.receiptHandle);
    },

    async touchJob(jobId) {
      const lease = leaseOf(jobId);
      if (lease) await hide(lease.queueUrl, lease.receiptHandle, visibility);
    },

    async releaseStaleJobs() {
      // SQS hands back a message whose visibility timeout ran out by itself.
      return 0;
    },

    async cancelByRun(workflowRunId) {
      cancelledRuns.add(workflowRunId);
      let dropped = 0;
      for (let i = buffered.length - 1; i >= 0; i--) if (buffered[i].workflowRunId === workflowRunId) buffered.splice(i, 1);
      for (const [jobId, lease] of leases) {
        if (lease.message.workflowRunId === workflowRunId) {
          leases.delete(jobId);
          await deleteMessage(lease.queueUrl, lease.receiptHandle);
          dropped++;
        }
      }
      return dropped;
    },

    fromSqsRecord(record) {
      const name = record.eventSourceARN.split(":").pop() ?? "";
      const queueUrl = arnToUrl.get(name);
      if (!queueUrl) throw new Error(`SQS record from ${record.eventSourceARN} is not from one of this transport's queues`);
      const message = JSON.parse(record.body) as JobMessage;
      const jobId = jobIdOf(message);
      leases.set(jobId, { queueUrl, receiptHandle: record.receiptHandle, message });
      return toResult(jobId, message);
    },
  };
  return transport;
}
