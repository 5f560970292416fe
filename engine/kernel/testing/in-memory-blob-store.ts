import type { BlobStore } from "../ports.js";

/** BlobStore in a Map. Values are stored as JSON text so callers never share object references. */
export class InMemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, string>();

  async put(key: string, data: unknown): Promise<void> {
    this.blobs.set(key, JSON.stringify(data));
  }

  async get(key: string): Promise<unknown> {
    const text = this.blobs.get(key);
    if (text === undefined) throw new Error(`Blob not found: ${key}`);
    return JSON.parse(text);
  }

  async has(key: string): Promise<boolean> {
    return this.blobs.has(key);
  }

  async delete(key: string): Promise<void> {
    this.blobs.delete(key);
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.blobs.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys = await this.list(prefix);
    for (const key of keys) this.blobs.delete(key);
    return keys.length;
  }

  get size(): number {
    return this.blobs.size;
  }

  clear(): void {
    this.blobs.clear();
  }
}
