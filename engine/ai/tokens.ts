/** Rough token estimate, about four characters a token as for English text; used where no provider counts. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}
