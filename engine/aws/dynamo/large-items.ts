import { randomUUID } from "node:crypto";
import type { BlobStore } from "../../kernel/ports.js";
import { DYNAMO_LIMITS } from "../definitions.js";
import { DynamoItemTooLargeError } from "./errors.js";
import type { ItemKey } from "./keys.js";

type Item = Record<string, unknown>;

/** Marker stored in place of a field that moved to the blob store. */
interface OffloadedField {
  $offloaded: string;
  size: number;
}

function isOffloaded(value: unknown): value is OffloadedField {
  return typeof value === "object" && value !== null && typeof (value as OffloadedField).$offloaded === "string";
}

/** Payload fields that may move to the blob store; keys, status and numbers never do. */
const OFFLOADABLE = ["input", "output", "config", "metadata", "outputData", "suspendedState", "resumeData", "payload", "result", "errorMessage"];

export const itemSize = (item: Item): number => Buffer.byteLength(JSON.stringify(item), "utf8");

/**
 * Keeps every item below DynamoDB's 400 KB limit. The kernel already moves large stage outputs
 * to the blob store; this guard catches the rest (huge inputs, suspended state, event payloads):
 * the largest payload fields move to the blob store and come back transparently on read. Without
 * a blob store, an oversized item is refused with DynamoItemTooLargeError before any write.
 */
export class LargeItemGuard {
  constructor(
    private readonly blobStore: BlobStore | undefined,
    private readonly limitBytes: number = DYNAMO_LIMITS.safeItemBytes,
  ) {}

  /**
   * Offloads fields of `item` (mutated in place) until it fits. For an update, `setAttributes`
   * receives the offloaded fields so the update writes the markers.
   */
  async guard(key: ItemKey, item: Item, setAttributes: Set<string> | null): Promise<void> {
    let size = itemSize(item);
    if (size <= this.limitBytes) return;
    if (!this.blobStore) throw new DynamoItemTooLargeError(`${key.pk} ${key.sk}`, size);
    const candidates = OFFLOADABLE.filter((attr) => item[attr] !== undefined && item[attr] !== null && !isOffloaded(item[attr]))
      .map((attr) => ({ attr, size: Buffer.byteLength(JSON.stringify(item[attr]), "utf8") }))
      .sort((a, b) => b.size - a.size);
    for (const candidate of candidates) {
      if (size <= this.limitBytes) break;
      const blobKey = `${blobPrefix(key)}/${candidate.attr}-${randomUUID()}.json`;
      await this.blobStore.put(blobKey, item[candidate.attr]);
      const marker: OffloadedField = { $offloaded: blobKey, size: candidate.size };
      item[candidate.attr] = marker;
      setAttributes?.add(candidate.attr);
      size = itemSize(item);
    }
    if (size > this.limitBytes) throw new DynamoItemTooLargeError(`${key.pk} ${key.sk}`, size);
  }

  /** Brings offloaded fields back. */
  async restore(item: Item): Promise<Item> {
    if (!this.blobStore) return item;
    for (const attr of OFFLOADABLE) {
      const value = item[attr];
      if (isOffloaded(value)) item[attr] = await this.blobStore.get(value.$offloaded);
    }
    return item;
  }
}

/** Offloaded blobs of a run live under the run's prefix, so deleting the run's blobs removes them. */
function blobPrefix(key: ItemKey): string {
  const sk = key.sk.replace(/[^A-Za-z0-9._-]/g, "_");
  if (key.pk.startsWith("RUN#")) return `runs/${key.pk.slice(4)}/items/${sk}`;
  return `system/${key.pk.replace(/[^A-Za-z0-9._-]/g, "_")}/${sk}`;
}
