/**
 * THE list of deliberate differences between `@tinker-ts/tinker` and the
 * official Python SDK 0.38.0, each with its reason. The harness accepts a
 * difference only if an entry here matches it; anything else fails the
 * scenario. Nothing else in `conformance/` may excuse a difference.
 *
 * @module
 */
import type { RecordedRequest } from "../testing/mod.ts";
import type { Difference } from "./compare.ts";

/** Requests dropped before comparing: only the SDK sends them, or they are timer-driven. */
export interface SdkOnlyRequest {
  id: string;
  reason: string;
  matches(request: RecordedRequest): boolean;
}

/** What a difference rule may look at besides the difference itself. */
export interface ScenarioFacts {
  /** Policy tags of the scenario (e.g. `"409"`), set where a scenario exercises a policy. */
  tags: readonly string[];
  /** Non-bootstrap requests our client and the SDK sent. */
  ourCalls: number;
  theirCalls: number;
}

/** One accepted kind of difference. */
export interface Deliberate {
  id: string;
  reason: string;
  matches(difference: Difference, scenario: ScenarioFacts): boolean;
}

export const SDK_ONLY_REQUESTS: readonly SdkOnlyRequest[] = [
  {
    id: "dynamic-config",
    reason:
      "The SDK fetches POST /api/v1/client/dynamic_config at bootstrap; its only field for REST " +
      "is the refresh interval of a loop REST-only holders never start.",
    matches: (r) => r.path === "/api/v1/client/dynamic_config",
  },
  {
    id: "heartbeats",
    reason:
      "Session heartbeats (POST /api/v1/session_heartbeat) are timer-driven on both sides, every " +
      "10 s: whether one falls inside a scenario depends on how long it runs. Their body, interval " +
      "and timeout are the SDK's (service_client_test.ts checks them).",
    matches: (r) => r.path === "/api/v1/session_heartbeat",
  },
  {
    id: "telemetry",
    reason:
      "The SDK reports exceptions to POST /api/v1/telemetry (in the background, whenever it " +
      "flushes); we send no telemetry.",
    matches: (r) => r.path === "/api/v1/telemetry",
  },
  {
    id: "retrieve-futures-acks",
    reason:
      "Ack-only polls of a sampling session (POST /api/v1/retrieve_futures with timeout 0: no " +
      "sample waits, only results read or events seen are reported) are sent in the background " +
      "on both sides, the SDK's as soon as its poll loop sees nothing waiting, so how many there " +
      "are and where they fall among the other requests depends on timing. The held polls are " +
      "compared; that every result read is acknowledged is checked in sampling_client_test.ts.",
    matches: (r) =>
      r.path === "/api/v1/retrieve_futures" &&
      (r.json as { timeout?: unknown } | null)?.timeout === 0,
  },
];

/** True when `ours` is `theirs` re-spelled by JSON.stringify (same values, same key order). */
function sameJson(ours: unknown, theirs: unknown): boolean {
  if (typeof ours !== "string" || typeof theirs !== "string") return false;
  try {
    return JSON.stringify(JSON.parse(theirs)) === ours;
  } catch {
    return false;
  }
}

const header = (d: Difference, ...names: string[]) =>
  d.kind === "header" && names.includes(d.name ?? "");
const tagged = (s: ScenarioFacts, tag: string, d: Difference, ...kinds: Difference["kind"][]) =>
  s.tags.includes(tag) && kinds.includes(d.kind);

export const DELIBERATE: readonly Deliberate[] = [
  {
    id: "user-agent",
    reason:
      "We do not claim to be the Python SDK: User-Agent is `tinker-ts/<version> (<runtime>)`.",
    matches: (d) => header(d, "user-agent"),
  },
  {
    id: "stainless-headers",
    reason:
      "X-Stainless-{Package-Version,OS,Arch,Runtime,Runtime-Version,Async,Read-Timeout} describe " +
      "the Python package and runtime; we send none of them (X-Stainless-Retry-Count we do send, " +
      "and it is compared).",
    matches: (d) =>
      d.kind === "header" && /^x-stainless-/.test(d.name ?? "") &&
      d.name !== "x-stainless-retry-count" && d.ours === undefined,
  },
  {
    id: "sdk-method-headers",
    reason:
      "x-sdk-version / x-sdk-method (0.38) tell the server which Python SDK version and method " +
      "hit an endpoint; we do not claim to be the Python SDK.",
    matches: (d) => header(d, "x-sdk-version", "x-sdk-method") && d.ours === undefined,
  },
  {
    id: "transport-headers",
    reason:
      "Accept-Encoding, Accept-Language and Connection are added by each HTTP stack (httpx + " +
      "zstandard vs the runtime's fetch; Deno's adds `accept-language: *`), not by the client.",
    matches: (d) => header(d, "accept-encoding", "accept-language", "connection"),
  },
  {
    id: "idempotency-key-prefix",
    reason:
      "Idempotency keys are `tinker-ts-retry-<uuid>` instead of `stainless-python-retry-<uuid>`; " +
      "when a key is sent and whether retries reuse it is still compared (copy_weights: bare " +
      "uuid on both).",
    matches: (d) =>
      header(d, "x-idempotency-key") && typeof d.ours === "string" &&
      typeof d.theirs === "string" &&
      d.ours.replace(/^tinker-ts-retry-/, "") === d.theirs.replace(/^stainless-python-retry-/, ""),
  },
  {
    id: "lazy-bootstrap",
    reason:
      "The SDK bootstraps when a RestClient is constructed; ours on the first call, so a call " +
      "rejected client-side sends nothing at all.",
    matches: (d, s) =>
      d.kind === "bootstrap" && Array.isArray(d.ours) && d.ours.length === 0 &&
      s.ourCalls === 0 && s.theirCalls === 0,
  },
  {
    id: "bootstrap-per-client",
    reason: "Each client instance bootstraps once (design doc); the SDK caches one holder per " +
      "(base URL, key) for the whole process, so a RestClient and an AdminClient share it.",
    matches: (d, s) => tagged(s, "two-clients", d, "bootstrap"),
  },
  {
    id: "conflict-is-terminal",
    reason:
      'A 409 ("already public/private") is a ConflictError at once for us; the SDK retries 409 ' +
      "(inner and outer loops, ~5 minutes), so a 409 followed by success succeeds there.",
    matches: (d, s) => tagged(s, "409", d, "request-count", "result"),
  },
  {
    id: "fewer-retries",
    reason:
      "maxRetries defaults to 5 (design doc) against the SDK's 10 inner retries inside a 5-minute " +
      "outer loop: long 429/5xx storms fail sooner here.",
    matches: (d, s) => tagged(s, "max-retries", d, "request-count", "result"),
  },
  {
    id: "one-retry-layer",
    reason:
      "One retry layer that obeys `x-should-retry: false` (design doc); the SDK's outer loop " +
      "(execute_with_retries) retries 408/409/429/5xx regardless of that header.",
    matches: (d, s) => tagged(s, "outer-retries", d, "request-count", "result"),
  },
  {
    id: "ids-checked-client-side",
    reason:
      "Ids are checked before sending (empty, `/`, `?`, `#`, `%`, whitespace); the SDK sends " +
      '`get_training_run("")` as GET /api/v1/training_runs/ and gets a 404.',
    matches: (d, s) =>
      tagged(s, "validation", d, "bootstrap", "request-count", "result") && s.ourCalls === 0,
  },
  {
    id: "billing-no-pause",
    reason:
      "402 is a BillingError at once for us; the SDK pauses 5 s and retries until the server " +
      "config's billing_exception_max_pause_duration_sec (default 3600 s) runs out.",
    matches: (d, s) => tagged(s, "402", d, "request-count"),
  },
  {
    id: "writes-not-retried-on-500",
    reason:
      "Fewer retries: a non-idempotent write (publish, unpublish, delete, copy) that got a 500 may " +
      "have been applied, so we retry it only on 408/429/503 or connect failures; the SDK " +
      "retries every 5xx.",
    matches: (d, s) => tagged(s, "write-5xx", d, "request-count", "result"),
  },
  {
    id: "no-credentials-across-origins",
    reason:
      "Following the audit log's redirect, the SDK forwards X-API-Key to the storage origin " +
      "(protocol doc §1.9); we never send credentials to another origin. The fake's storage " +
      "refuses keyed requests, so there the SDK fails (403) and we succeed.",
    matches: (d, s) => tagged(s, "audit-redirect", d, "result"),
  },
  {
    id: "fwdbwd-uncompressed",
    reason:
      "When the server's client config sets proto_compress_fwdbwd, the SDK zstd-compresses the " +
      "protobuf forward_backward body (Content-Encoding: zstd). Deno and Node have no native " +
      "zstd (CompressionStream: gzip/deflate only) and we add no dependency; Bun's native zstd " +
      "writes frames without the content size that zstandard's one-shot decompress() (the " +
      "SDK's own counterpart) refuses. So we send the body uncompressed everywhere, as the SDK " +
      "does by default. Only the encoding (and so the length) may differ: the decompressed " +
      "bodies must still match.",
    matches: (d, s) =>
      (header(d, "content-encoding") && d.theirs === "zstd" && d.ours === undefined) ||
      (tagged(s, "fwdbwd-zstd", d, "header") && header(d, "content-length")),
  },
  {
    id: "json-number-spelling",
    reason:
      "Python's json writes a float as 1.0 or 1e-05 where JavaScript writes 1 or 0.00001: the " +
      "same JSON numbers (every parser reads the same value), spelled differently. Accepted " +
      "only when our body is exactly the SDK's parsed and written again by JSON.stringify (same " +
      "values, same key order), and, in scenarios tagged json-floats, the Content-Length that " +
      "follows from it.",
    matches: (d, s) =>
      (d.kind === "body" && sameJson(d.ours, d.theirs)) ||
      (tagged(s, "json-floats", d, "header") && header(d, "content-length")),
  },
  {
    id: "export-full-response",
    reason:
      "saveWeightsExternal resolves to the server's whole answer (path, size_bytes, type), like " +
      "every response here (design doc: the client drops no keys); the SDK rebuilds it as " +
      "SaveWeightsExternalResponse(path) and drops size_bytes and type.",
    matches: (d, s) =>
      s.tags.includes("export-response") && d.kind === "result" &&
      /\.(size_bytes|type)$/.test(d.where),
  },
  {
    id: "training-full-response",
    reason:
      "optimStep and saveWeightsForSampler resolve to the server's whole answer (type included), " +
      "like every response here (design doc: the client drops no keys); the SDK's " +
      "OptimStepResponse has no `type`, and it rebuilds SaveWeightsForSamplerResponse(path), " +
      "whose `type` is then null.",
    matches: (d, s) =>
      s.tags.includes("full-response") && d.kind === "result" && /\.type$/.test(d.where),
  },
  {
    id: "loss-output-key-order",
    reason: "A forward_backward output record's keys (logprobs, elementwise_loss, …) come from a " +
      "protobuf map: the SDK lists them in upb's hash order, which changes from one process to " +
      "the next; we list them in the order the server wrote them. Same keys and values.",
    matches: (d) => d.kind === "result-key-order" && /\.loss_fn_outputs\[\d+\]$/.test(d.where),
  },
  {
    id: "fwdbwd-chunk-interleaving",
    reason:
      "The SDK sends a chunked batch from concurrent tasks (chunks 2..n, then 1), each polling " +
      "its future as soon as its chunk is sent, so where the polls fall among the sends depends " +
      "on scheduling. We send the chunks in the same order (2..n, then 1), then poll each: the " +
      "same requests, in another interleaving. training_client_test.ts checks the chunks' " +
      "order, sequence ids and bodies.",
    matches: (d, s) =>
      s.tags.includes("fwdbwd-chunks") && ["path", "body", "header"].includes(d.kind) &&
      /POST \/api\/v1\/(forward_backward|retrieve_future)\)/.test(d.where),
  },
  {
    id: "instants-in-utc",
    reason:
      "Billing window bounds are sent as RFC 3339 in UTC (`…Z`, design doc); the SDK keeps the " +
      "offset it was given (`+05:00`). Same instants.",
    matches: (d, s) => tagged(s, "utc", d, "path"),
  },
];

/**
 * Scenarios of methods that 0.38 removed run against the 0.25 contract of
 * the protocol doc (§2.6, §8.1) instead of the SDK.
 */
export const ARCHIVE_CONTRACT: Deliberate = {
  id: "archive-0.25-contract",
  reason:
    "getCheckpointArchiveUrl[FromTinkerPath] exist for servers that still serve the archive; " +
    "SDK 0.38 removed them, so they are checked against the 0.25 contract of the protocol doc.",
  matches: () => false,
};

/**
 * `tinker checkpoint download` of a training checkpoint, compared with the
 * official 0.38 CLI by tests/cli_diff_test.ts (its requests in order, body by
 * body, and its JSON): these are the differences that test leaves out.
 */
export const CLI_DOWNLOAD_FLOW: Deliberate = {
  id: "cli-download-flow",
  reason:
    "Each client bootstraps before its first call, so the REST client's /client/config comes " +
    "after the export instead of before the session (same count: one per client); no " +
    "dynamic_config or telemetry (above). Beyond the SDK: a server that answers 404/405 to " +
    "create_session or load_weights gets the archive route instead (the SDK has none and fails); " +
    "after Ctrl-C the export's deletion and the session's finish get 2 s (the SDK waits as long " +
    "as they take); a failed finish is a warning, not an error, once the files are in place.",
  matches: () => false,
};

/**
 * `ServiceClient.createCustomLoss`: not comparable by a scenario (the SDK
 * needs torch to trace the loss), so recorded here with its reason.
 */
export const CUSTOM_LOSS_CLIENT_SIDE: Deliberate = {
  id: "custom-loss-client-side",
  reason:
    "SDK 0.38 traces a create_custom_loss function with torch.fx and, where the server's client " +
    "config says custom_loss_server_side, uploads it (POST /api/v1/create_custom_loss, a future) " +
    'and then sends forward_backward_custom as one forward_backward with loss_fn "custom" and ' +
    "its loss_id. TypeScript has no torch or autograd: our LossHandle always runs client-side, " +
    "as the SDK runs a loss the server does not take (a forward pass, the per-datum loss here, " +
    "a backward pass with weights = -gradient), and is never uploaded. Against a server " +
    "without that flag (the fake, TuFT) the requests are the same: create_session, then the " +
    "two passes.",
  matches: () => false,
};
