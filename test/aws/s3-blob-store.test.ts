import { afterAll, describe, expect, it } from "vitest";
import { createS3BlobStore, BlobNotFoundError, S3BucketNotFoundError } from "../../engine/aws/index.js";
import { localAws, localClients, uniqueName } from "../support/emulators/inject.js";

const clients = localClients();
afterAll(() => clients.destroy());

const store = () => createS3BlobStore({ client: clients.s3, bucket: localAws().bucketName });

/** A JSON value of roughly `bytes` bytes. */
const payloadOf = (bytes: number) => ({ items: Array.from({ length: Math.ceil(bytes / 100) }, (_, i) => ({ i, text: "x".repeat(88) })) });

describe("S3 blob store", () => {
  it("round-trips a 5 MB stage output", async () => {
    const blobs = store();
    const key = `runs/${uniqueName("run")}/stages/big/output.json`;
    const output = payloadOf(5 * 1024 * 1024);
    await blobs.put(key, output);
    expect(await blobs.get(key)).toEqual(output);
    expect(await blobs.has(key)).toBe(true);
  });

  it("round-trips a 50 MB artifact", async () => {
    const blobs = store();
    const key = `runs/${uniqueName("run")}/artifacts/archive.json`;
    const artifact = { blob: "a".repeat(50 * 1024 * 1024) };
    await blobs.put(key, artifact);
    const back = (await blobs.get(key)) as { blob: string };
    expect(back.blob.length).toBe(artifact.blob.length);
  });

  it("lists and deletes exactly one run's blobs by prefix", async () => {
    const blobs = store();
    const run = uniqueName("run");
    const other = uniqueName("run");
    await Promise.all([
      blobs.put(`runs/${run}/a.json`, 1),
      blobs.put(`runs/${run}/nested/b.json`, 2),
      blobs.put(`runs/${other}/a.json`, 3),
    ]);
    expect((await blobs.list(`runs/${run}/`)).sort()).toEqual([`runs/${run}/a.json`, `runs/${run}/nested/b.json`]);
    expect(await blobs.deletePrefix(`runs/${run}/`)).toBe(2);
    expect(await blobs.list(`runs/${run}/`)).toEqual([]);
    expect(await blobs.get(`runs/${other}/a.json`)).toBe(3);
  });

  it("reports a missing blob as absent and reading it as BlobNotFoundError", async () => {
    const blobs = store();
    const key = `runs/${uniqueName("run")}/missing.json`;
    expect(await blobs.has(key)).toBe(false);
    await expect(blobs.get(key)).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it("names the bucket when it does not exist", async () => {
    const blobs = createS3BlobStore({ client: clients.s3, bucket: uniqueName("no-such-bucket") });
    await expect(blobs.put("runs/x/y.json", 1)).rejects.toBeInstanceOf(S3BucketNotFoundError);
  });

  it("keeps null and nested values intact", async () => {
    const blobs = store();
    const key = `runs/${uniqueName("run")}/values.json`;
    await blobs.put(key, { a: null, b: [1, "two", { c: true }] });
    expect(await blobs.get(key)).toEqual({ a: null, b: [1, "two", { c: true }] });
    await blobs.delete(key);
    expect(await blobs.has(key)).toBe(false);
  });
});
