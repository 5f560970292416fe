/** An item that knows its position in the heap holding it (-1 when in none), so it can be removed in O(log n). */
export interface HeapItem {
  heapIndex: number;
}

/**
 * Minimal binary heap of items that record their own position; `before(a, b)` is true when a
 * must come out first. Removal of any item is O(log n), so a queue needs no stale entries.
 */
export class BinaryHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const i = this.items.length;
    this.items.push(item);
    item.heapIndex = i;
    this.up(i);
  }

  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0]!;
    this.removeAt(0);
    return top;
  }

  /** Removes an item this heap holds. */
  remove(item: T): void {
    const i = item.heapIndex;
    if (i >= 0 && this.items[i] === item) this.removeAt(i);
  }

  private removeAt(i: number): void {
    const items = this.items;
    const removed = items[i]!;
    const last = items.pop()!;
    removed.heapIndex = -1;
    if (last === removed) return;
    items[i] = last;
    last.heapIndex = i;
    if (i > 0 && this.before(last, items[(i - 1) >> 1]!)) this.up(i);
    else this.down(i);
  }

  private up(i: number): void {
    const items = this.items;
    const item = items[i]!;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex]!;
      if (!this.before(item, parent)) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = parentIndex;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  private down(i: number): void {
    const items = this.items;
    const length = items.length;
    const item = items[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && this.before(items[right]!, items[left]!) ? right : left;
      if (!this.before(items[child]!, item)) break;
      items[i] = items[child]!;
      items[i]!.heapIndex = i;
      i = child;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
