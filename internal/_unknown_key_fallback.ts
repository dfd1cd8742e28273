// Bodies for SDK 0.25-era servers (TuFT): their request models forbid keys
// SDK 0.38 added (`create_model`'s `optimizer_config`,
// `save_weights_for_sampler`'s `kind`, `asample`'s `topk_sample_logprobs`,
// `prompt_alt_tokens_k`, `record_stability_info`) and refuse such a body with
// 422 (`extra_forbidden` at `body.<key>`). When every refused key holds the
// value such a server assumes anyway (AdamW, a snapshot, 0, false), the body
// is sent once more without them; a refused body was not applied, so this
// never sends a mutation twice. A value the caller chose is never dropped:
// then the 422 stands.

import { ApiError } from "../errors.ts";

/**
 * `body` without the keys a 422 `error` refuses as unknown, when each of them
 * holds its value in `defaults` (compared as JSON); otherwise `undefined`
 * (the error stands).
 */
export function withoutRefusedDefaults(
  error: unknown,
  body: unknown,
  defaults: Readonly<Record<string, unknown>>,
): Record<string, unknown> | undefined {
  if (!(error instanceof ApiError) || error.status !== 422) return undefined;
  const detail = (error.body as { detail?: unknown } | undefined)?.detail;
  if (!Array.isArray(detail) || detail.length === 0) return undefined;
  const rest = { ...body as Record<string, unknown> };
  for (const d of detail) {
    const item = d as { type?: unknown; loc?: unknown } | null;
    const loc = item?.loc;
    if (item?.type !== "extra_forbidden" || !Array.isArray(loc) || loc.length !== 2) {
      return undefined;
    }
    const key = loc[1];
    if (loc[0] !== "body" || typeof key !== "string" || !Object.hasOwn(defaults, key)) {
      return undefined;
    }
    if (JSON.stringify(rest[key]) !== JSON.stringify(defaults[key])) return undefined;
    delete rest[key];
  }
  return rest;
}
