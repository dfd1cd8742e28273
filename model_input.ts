/**
 * {@linkcode ModelInput}: what a model reads — token chunks and image chunks —
 * as SDK 0.38's `tinker.ModelInput`, with the same helpers (`fromInts`,
 * `toInts`, `length`, `empty`, `append`, `appendInt`).
 *
 * Tokens are the user's: no tokenizer is bundled. Encode text with the
 * tokenizer of the model (its id is in `getInfo()`'s `model_data.tokenizer_id`)
 * and pass the ids here.
 *
 * @example A prompt from token ids
 * ```ts
 * import { ModelInput } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * const prompt = ModelInput.fromInts([1, 2, 3]).appendInt(4);
 * assert.equal(prompt.length, 4);
 * assert.deepEqual(prompt.toInts(), [1, 2, 3, 4]);
 * ```
 *
 * @module
 */

/**
 * A run of token ids.
 *
 * @example
 * ```ts
 * import type { EncodedTextChunk } from "@tinker-ts/tinker";
 * const chunk: EncodedTextChunk = { type: "encoded_text", tokens: [1, 2, 3] };
 * ```
 */
export interface EncodedTextChunk {
  /** The chunk kind. */
  type: "encoded_text";
  /** The token ids (int32 on the binary wire). */
  tokens: readonly number[];
}

/**
 * An image, sent inline (base64 in JSON bodies, raw bytes in protobuf).
 *
 * @example
 * ```ts
 * import type { ImageChunk } from "@tinker-ts/tinker";
 * const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
 * const chunk: ImageChunk = { type: "image", data: png, format: "png", expected_tokens: 256 };
 * ```
 */
export interface ImageChunk {
  /** The chunk kind. */
  type: "image";
  /** The encoded image file. */
  data: Uint8Array;
  /** The image format. */
  format: "png" | "jpeg";
  /**
   * The number of tokens the image is expected to take: advisory (the server
   * computes it and fails fast on a mismatch), and needed for `length`.
   */
  expected_tokens?: number | null;
}

/**
 * An image by reference (a path or URL the server reads). JSON bodies only:
 * SDK 0.38 cannot send it in a `forward_backward` (protobuf) request either.
 *
 * @example
 * ```ts
 * import type { ImageAssetPointerChunk } from "@tinker-ts/tinker";
 * const chunk: ImageAssetPointerChunk = {
 *   type: "image_asset_pointer",
 *   location: "https://example.com/cat.png",
 *   format: "png",
 * };
 * ```
 */
export interface ImageAssetPointerChunk {
  /** The chunk kind. */
  type: "image_asset_pointer";
  /** Path or URL of the image. */
  location: string;
  /** The image format. */
  format: "png" | "jpeg";
  /** As for {@linkcode ImageChunk}. */
  expected_tokens?: number | null;
}

/**
 * Audio as DMel tokens: a serialised TensorContainer whose first dimension is
 * the token count.
 *
 * @example
 * ```ts
 * import type { DmelChunk } from "@tinker-ts/tinker";
 * // dtype byte 0, 2 dimensions: 3 × 8
 * const chunk: DmelChunk = { type: "dmel", dmel: new Uint8Array([0, 2, 3, 8]) };
 * ```
 */
export interface DmelChunk {
  /** The chunk kind. */
  type: "dmel";
  /** The serialised TensorContainer bytes. */
  dmel: Uint8Array;
}

/** One chunk of a {@linkcode ModelInput}. */
export type ModelInputChunk = EncodedTextChunk | ImageChunk | ImageAssetPointerChunk | DmelChunk;

/**
 * The JSON form of a {@linkcode ModelInput}, as the SDK serialises it in
 * sample requests: images as base64 strings.
 *
 * @example
 * ```ts
 * import type { ModelInputJson } from "@tinker-ts/tinker";
 * const json: ModelInputJson = { chunks: [{ tokens: [1, 2], type: "encoded_text" }] };
 * ```
 */
export interface ModelInputJson {
  /** The chunks, with `type` last as the SDK orders fields. */
  chunks: Record<string, unknown>[];
}

function fail(what: string, problem: string): never {
  throw new RangeError(`Invalid ${what}: ${problem}`);
}

function checkTokens(tokens: ArrayLike<number>, what: string): number[] {
  if (tokens === null || typeof tokens !== "object" || typeof tokens.length !== "number") {
    fail(what, `expected an array of token ids, got ${tokens}`);
  }
  const out = Array.from(tokens);
  out.forEach((token, i) => {
    if (!Number.isInteger(token) || token < -2147483648 || token > 2147483647) {
      fail(what, `token ${i} must be a whole number within int32, got ${token}`);
    }
  });
  return out;
}

function checkExpectedTokens(value: unknown, what: string): void {
  if (value === undefined || value === null) return;
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 2147483647) {
    fail(`${what}.expected_tokens`, `expected a non-negative whole number, got ${value}`);
  }
}

function checkChunk(chunk: ModelInputChunk, i: number): ModelInputChunk {
  const what = `ModelInput chunk ${i}`;
  if (chunk === null || typeof chunk !== "object") fail(what, `expected a chunk, got ${chunk}`);
  switch (chunk.type) {
    case "encoded_text":
      return { type: "encoded_text", tokens: checkTokens(chunk.tokens, `${what} tokens`) };
    case "image":
    case "image_asset_pointer":
      if (chunk.format !== "png" && chunk.format !== "jpeg") {
        fail(`${what}.format`, `expected "png" or "jpeg", got ${JSON.stringify(chunk.format)}`);
      }
      checkExpectedTokens(chunk.expected_tokens, what);
      if (chunk.type === "image" && !(chunk.data instanceof Uint8Array)) {
        fail(`${what}.data`, "expected the image bytes as a Uint8Array");
      }
      if (chunk.type === "image_asset_pointer" && typeof chunk.location !== "string") {
        fail(`${what}.location`, `expected a string, got ${chunk.location}`);
      }
      return chunk;
    case "dmel":
      if (!(chunk.dmel instanceof Uint8Array)) fail(`${what}.dmel`, "expected a Uint8Array");
      return chunk;
    default:
      return fail(
        `${what}.type`,
        `expected "encoded_text", "image", "image_asset_pointer" or "dmel", got ${
          JSON.stringify((chunk as { type?: unknown }).type)
        }`,
      );
  }
}

/** The first dimension of a TensorContainer header (the DMel token count). */
function dmelLength(bytes: Uint8Array): number {
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (pos >= bytes.length) fail("DmelChunk", "truncated TensorContainer header");
      const byte = bytes[pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
      if (scale > 2 ** 63) fail("DmelChunk", "TensorContainer varint is too long");
    }
  };
  if (bytes.length === 0) fail("DmelChunk", "TensorContainer bytes are empty");
  if (bytes[pos] === 254) pos++; // constant-tensor marker
  if (pos >= bytes.length) fail("DmelChunk", "truncated TensorContainer header");
  const dtype = bytes[pos++]!;
  if (dtype > 7) fail("DmelChunk", `unknown TensorContainer dtype byte ${dtype}`);
  const ndim = varint();
  if (ndim === 0) fail("DmelChunk", "TensorContainer tensor has no dimension 0");
  return varint();
}

/**
 * The context length a chunk takes: its token count; for images,
 * `expected_tokens` (required to know the length, as in the SDK).
 *
 * @param chunk The chunk.
 * @returns Its length in tokens.
 * @throws {RangeError} For an image without `expected_tokens`.
 *
 * @example
 * ```ts
 * import { chunkLength } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * assert.equal(chunkLength({ type: "encoded_text", tokens: [1, 2, 3] }), 3);
 * ```
 */
export function chunkLength(chunk: ModelInputChunk): number {
  switch (chunk.type) {
    case "encoded_text":
      return chunk.tokens.length;
    case "dmel":
      return dmelLength(chunk.dmel);
    default:
      if (chunk.expected_tokens === undefined || chunk.expected_tokens === null) {
        fail(
          `${chunk.type} chunk`,
          "expected_tokens needs to be set in order to compute the length",
        );
      }
      return chunk.expected_tokens;
  }
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function unbase64(text: unknown, what: string): Uint8Array {
  if (typeof text !== "string") fail(what, `expected a base64 string, got ${text}`);
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return fail(what, "is not valid base64");
  }
}

/**
 * The input of a model: a sequence of chunks (token runs, images, audio).
 * Immutable: `append`/`appendInt` return a new `ModelInput`.
 *
 * @example A multimodal input: text, an image, more text
 * ```ts
 * import { ModelInput } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
 * const input = ModelInput.fromInts([1, 2])
 *   .append({ type: "image", data: png, format: "png", expected_tokens: 16 })
 *   .appendInt(3);
 * assert.equal(input.length, 19);
 * assert.equal(input.chunks.length, 3);
 * ```
 */
export class ModelInput {
  /** The chunks, in order. */
  readonly chunks: readonly ModelInputChunk[];

  /**
   * Builds a model input from chunks, checking each.
   *
   * @param chunks The chunks, in order.
   * @throws {RangeError} For a malformed chunk (named by its index).
   */
  constructor(chunks: readonly ModelInputChunk[]) {
    if (!Array.isArray(chunks)) fail("ModelInput chunks", `expected an array, got ${chunks}`);
    this.chunks = Object.freeze(chunks.map(checkChunk));
  }

  /**
   * A model input of one token chunk.
   *
   * @param tokens The token ids (any array-like of int32 values).
   * @returns The model input.
   *
   * @example
   * ```ts
   * import { ModelInput } from "@tinker-ts/tinker";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(ModelInput.fromInts(new Int32Array([4, 5])).toInts(), [4, 5]);
   * ```
   */
  static fromInts(tokens: ArrayLike<number>): ModelInput {
    return new ModelInput([{ type: "encoded_text", tokens: checkTokens(tokens, "tokens") }]);
  }

  /**
   * A model input with no chunks.
   *
   * @returns The empty model input.
   *
   * @example
   * ```ts
   * import { ModelInput } from "@tinker-ts/tinker";
   * import assert from "node:assert/strict";
   *
   * assert.equal(ModelInput.empty().length, 0);
   * ```
   */
  static empty(): ModelInput {
    return new ModelInput([]);
  }

  /**
   * Reads the SDK's JSON form back (base64 images decoded).
   *
   * @param json A `{ chunks: [...] }` object.
   * @returns The model input.
   * @throws {RangeError} When `json` is not a model input.
   *
   * @example
   * ```ts
   * import { ModelInput } from "@tinker-ts/tinker";
   * import assert from "node:assert/strict";
   *
   * const input = ModelInput.fromInts([1, 2]);
   * assert.deepEqual(ModelInput.fromJSON(input.toJSON()), input);
   * ```
   */
  static fromJSON(json: unknown): ModelInput {
    const chunks = (json as { chunks?: unknown } | null)?.chunks;
    if (!Array.isArray(chunks)) fail("ModelInput JSON", "expected { chunks: [...] }");
    return new ModelInput(chunks.map((raw, i): ModelInputChunk => {
      const c = raw as Record<string, unknown>;
      const what = `ModelInput JSON chunk ${i}`;
      switch (c?.type) {
        case "image":
          return { ...c, data: unbase64(c.data, `${what}.data`) } as unknown as ImageChunk;
        case "dmel":
          return { type: "dmel", dmel: unbase64(c.dmel, `${what}.dmel`) };
        default:
          return c as unknown as ModelInputChunk;
      }
    }));
  }

  /** The total context length: the sum of the chunks' lengths. */
  get length(): number {
    let total = 0;
    for (const chunk of this.chunks) total += chunkLength(chunk);
    return total;
  }

  /**
   * All token ids, in order.
   *
   * @returns The ids.
   * @throws {RangeError} When a chunk is not a token chunk.
   */
  toInts(): number[] {
    const out: number[] = [];
    for (const chunk of this.chunks) {
      if (chunk.type !== "encoded_text") {
        fail("ModelInput", `toInts needs token chunks only, got a ${chunk.type} chunk`);
      }
      for (const token of chunk.tokens) out.push(token);
    }
    return out;
  }

  /**
   * A new model input with `chunk` appended.
   *
   * @param chunk The chunk to add.
   * @returns The new model input.
   */
  append(chunk: ModelInputChunk): ModelInput {
    return new ModelInput([...this.chunks, chunk]);
  }

  /**
   * A new model input with one token appended (as a chunk of its own, as the SDK does).
   *
   * @param token The token id.
   * @returns The new model input.
   */
  appendInt(token: number): ModelInput {
    return this.append({ type: "encoded_text", tokens: [token] });
  }

  /**
   * The SDK's JSON form: `{ chunks: [{ tokens, type }, { data (base64), format, expected_tokens?, type }] }`.
   *
   * @returns The JSON object; `JSON.stringify` calls this.
   */
  toJSON(): ModelInputJson {
    return {
      chunks: this.chunks.map((chunk) => {
        switch (chunk.type) {
          case "encoded_text":
            return { tokens: [...chunk.tokens], type: chunk.type };
          case "image":
            return withExpected({ data: base64(chunk.data), format: chunk.format }, chunk);
          case "image_asset_pointer":
            return withExpected({ format: chunk.format, location: chunk.location }, chunk);
          case "dmel":
            return { dmel: base64(chunk.dmel), type: chunk.type };
        }
      }),
    };
  }
}

function withExpected(
  fields: Record<string, unknown>,
  chunk: ImageChunk | ImageAssetPointerChunk,
): Record<string, unknown> {
  if (chunk.expected_tokens !== undefined && chunk.expected_tokens !== null) {
    fields.expected_tokens = chunk.expected_tokens;
  }
  fields.type = chunk.type;
  return fields;
}
