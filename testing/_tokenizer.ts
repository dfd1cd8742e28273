/**
 * The fake's tiny tokenizer for its OpenAI-compatible endpoint: one token per
 * character, over the same alphabet as {@linkcode detokenize} (the bigram
 * model's vocabulary), so text goes into the model and its tokens come back
 * as text. A character outside the vocabulary reads as a space.
 *
 * @module
 */
import { detokenize, VOCAB } from "./_bigram.ts";

const SPACE = detokenize([...Array(VOCAB).keys()]).indexOf(" ");
const INDEX = new Map([...detokenize([...Array(VOCAB).keys()])].map((c, i) => [c, i]));

/** The token ids of `text`: one per character (code point), unknown characters as a space. */
export function encode(text: string): number[] {
  return [...text].map((c) => INDEX.get(c) ?? SPACE);
}

/** The text of `tokens`: one character each. */
export function decode(tokens: readonly number[]): string {
  return detokenize(tokens);
}
