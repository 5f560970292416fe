/** Condition and update expressions with generated placeholders, so attribute names never clash with reserved words. */

export type Condition =
  | { attr: string; op: "=" | "<" | "<=" | ">" | ">=" | "<>"; value: unknown }
  | { attr: string; op: "in"; values: readonly unknown[] }
  | { attr: string; op: "exists" | "not_exists" }
  | { or: readonly Condition[] };

export class ExpressionBuilder {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private nameIndex = new Map<string, string>();
  private valueCount = 0;

  name(attr: string): string {
    let placeholder = this.nameIndex.get(attr);
    if (!placeholder) {
      placeholder = `#n${this.nameIndex.size}`;
      this.nameIndex.set(attr, placeholder);
      this.names[placeholder] = attr;
    }
    return placeholder;
  }

  value(value: unknown): string {
    const placeholder = `:v${this.valueCount++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  condition(condition: Condition): string {
    if ("or" in condition) return `(${condition.or.map((c) => this.condition(c)).join(" OR ")})`;
    const name = this.name(condition.attr);
    switch (condition.op) {
      case "exists":
        return `attribute_exists(${name})`;
      case "not_exists":
        return `attribute_not_exists(${name})`;
      case "in":
        return `${name} IN (${condition.values.map((v) => this.value(v)).join(", ")})`;
      default:
        return `${name} ${condition.op} ${this.value(condition.value)}`;
    }
  }

  conditions(conditions: readonly Condition[]): string | undefined {
    return conditions.length ? conditions.map((c) => this.condition(c)).join(" AND ") : undefined;
  }

  /** Names/values for the SDK, or undefined when empty (DynamoDB rejects empty maps). */
  get expressionAttributeNames(): Record<string, string> | undefined {
    return Object.keys(this.names).length ? this.names : undefined;
  }

  get expressionAttributeValues(): Record<string, unknown> | undefined {
    return Object.keys(this.values).length ? this.values : undefined;
  }
}
