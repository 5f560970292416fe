import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { BlobStore } from "../../kernel/ports.js";
import { mapS3Error } from "./errors.js";

export interface S3BlobStoreOptions {
  client: S3Client;
  bucket: string;
  /** Bodies above this go up in parts (multipart upload). @default 8 MiB */
  multipartThresholdBytes?: number;
  /**
   * Prepended to every key (e.g. a tenant folder). The kernel's keys already start with
   * `runs/<runId>/`, so one run's blobs are one prefix. @default ""
   */
  keyPrefix?: string;
}

const isNotFound = (error: unknown): boolean => {
  const name = (error as { name?: string } | undefined)?.name;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  return name === "NoSuchKey" || name === "NotFound" || status === 404;
};

/**
 * BlobStore on S3: each blob is one JSON object. Large stage outputs and artifacts live here
 * while the DynamoDB item keeps a `{ $blob, size }` reference.
 *
 * @example
 * ```ts
 * const blobs = createS3BlobStore({ client: new S3Client({}), bucket: process.env.STAGEFLOW_BUCKET_NAME! });
 * await blobs.put("runs/run-1/stages/extract/output.json", { text: "..." });
 * ```
 */
export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore & { deletePrefix(prefix: string): Promise<number> } {
  const { client, bucket } = options;
  const prefix = options.keyPrefix ?? "";
  const full = (key: string): string => `${prefix}${key}`;
  const call = async <T>(operation: string, key: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw mapS3Error(error, operation, bucket, key);
    }
  };

  async function listFull(listPrefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await call("ListObjectsV2", listPrefix, () =>
        client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: full(listPrefix), ContinuationToken: token })),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  const partSize = Math.max(5 * 1024 * 1024, options.multipartThresholdBytes ?? 8 * 1024 * 1024);

  /** Large bodies go up in parts: retries repeat one part, not 50 MB, and parts upload in parallel. */
  async function putMultipart(key: string, body: Buffer): Promise<void> {
    const { UploadId } = await call("CreateMultipartUpload", key, () =>
      client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: full(key), ContentType: "application/json" })),
    );
    try {
      const count = Math.ceil(body.length / partSize);
      const parts: { ETag?: string; PartNumber: number }[] = new Array(count);
      let next = 0;
      const uploader = async () => {
        for (let index = next++; index < count; index = next++) {
          const PartNumber = index + 1;
          const { ETag } = await call("UploadPart", key, () =>
            client.send(
              new UploadPartCommand({
                Bucket: bucket,
                Key: full(key),
                UploadId,
                PartNumber,
                Body: body.subarray(index * partSize, (index + 1) * partSize),
              }),
            ),
          );
          parts[index] = { ETag, PartNumber };
        }
      };
      await Promise.all(Array.from({ length: Math.min(4, count) }, uploader));
      await call("CompleteMultipartUpload", key, () =>
        client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: full(key), UploadId, MultipartUpload: { Parts: parts } })),
      );
    } catch (error) {
      // An abandoned upload keeps its parts (and bills them) until aborted.
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: full(key), UploadId })).catch(() => undefined);
      throw error;
    }
  }

  return {
    async put(key, data) {
      const body = Buffer.from(JSON.stringify(data === undefined ? null : data), "utf8");
      if (body.length > partSize) return putMultipart(key, body);
      await call("PutObject", key, () =>
        client.send(new PutObjectCommand({ Bucket: bucket, Key: full(key), Body: body, ContentType: "application/json" })),
      );
    },

    async get(key) {
      const object = await call("GetObject", key, () => client.send(new GetObjectCommand({ Bucket: bucket, Key: full(key) })));
      const text = (await object.Body?.transformToString("utf-8")) ?? "null";
      return JSON.parse(text) as unknown;
    },

    async has(key) {
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: full(key) }));
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw mapS3Error(error, "HeadObject", bucket, key);
      }
    },

    async delete(key) {
      await call("DeleteObject", key, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: full(key) })));
    },

    async list(listPrefix) {
      return (await listFull(listPrefix)).map((key) => key.slice(prefix.length));
    },

    async deletePrefix(deleted) {
      const keys = await listFull(deleted);
      for (let i = 0; i < keys.length; i += 1000) {
        const chunk = keys.slice(i, i + 1000);
        await call("DeleteObjects", deleted, () =>
          client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } })),
        );
      }
      return keys.length;
    },
  };
}
