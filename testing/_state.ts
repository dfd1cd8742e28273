/**
 * The seeded in-memory data behind the fake Tinker server.
 *
 * Everything is derived from string-keyed PRNG streams, so an entity's id and
 * fields depend only on its index, never on how many other entities a seed
 * asks for: the ids in {@linkcode FAKE_IDS} hold for every seed that contains
 * the entity.
 *
 * @module
 */

/**
 * A checkpoint exactly as the API serializes it.
 *
 * @example
 * ```ts
 * import { FAKE_IDS, startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker();
 * const checkpoint = fake.state!.checkpoint(FAKE_IDS.run, "weights/000010")!;
 * console.log(checkpoint.tinker_path === FAKE_IDS.checkpointPath); // true
 * ```
 */
export interface FakeCheckpoint {
  /** Kind-prefixed id, e.g. `"weights/000010"`, `"sampler_weights/000010"` or `"external_weights/000010"`. */
  checkpoint_id: string;
  /** `"training"` for `weights/…`, `"sampler"` for `sampler_weights/…`, `"external"` for `external_weights/…`. */
  checkpoint_type: "training" | "sampler" | "external";
  /** Creation time, ISO 8601 UTC with microseconds. */
  time: string;
  /** `tinker://<run>/<checkpoint_id>`. */
  tinker_path: string;
  /** Size of the stored checkpoint. */
  size_bytes: number | null;
  /** Whether anyone may read it. Never null. */
  public: boolean;
  /** End-user metadata (SDK 0.38), or null. */
  user_metadata: Record<string, string> | null;
  /** When it is deleted automatically, or null for never. */
  expires_at: string | null;
}

/**
 * A training run: the wire fields of `TrainingRun` plus the fake's bookkeeping.
 *
 * @example
 * ```ts
 * import { FAKE_IDS, startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker();
 * const run = fake.state!.runs.get(FAKE_IDS.bigRun)!;
 * console.log(run.checkpoints.length); // 250
 * ```
 */
export interface FakeRun {
  /** `<session-uuid>:train:<n>`. */
  training_run_id: string;
  /** Hugging Face id of the base model. */
  base_model: string;
  /** Owner URN, `tml:organization_user:<uuid>`. */
  model_owner: string;
  /** Whether the run trains a LoRA adapter. */
  is_lora: boolean;
  /** Whether the run is broken. */
  corrupted: boolean;
  /** LoRA rank, or null for full fine-tuning. */
  lora_rank: number | null;
  /** Last request time, ISO 8601 UTC. */
  last_request_time: string;
  /** End-user metadata, or null. */
  user_metadata: Record<string, string> | null;
  /** The session that created the run (not sent on the wire). */
  session_id: string;
  /** The run's checkpoints, oldest first (not sent on the wire). */
  checkpoints: FakeCheckpoint[];
}

/**
 * A session and what it created.
 *
 * @example
 * ```ts
 * import { FAKE_IDS, startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker();
 * const session = fake.state!.sessions.get(FAKE_IDS.sessionId)!;
 * console.log(session.sampler_ids.includes(FAKE_IDS.samplerId)); // true
 * ```
 */
export interface FakeSession {
  /** A UUID. */
  session_id: string;
  /** Owner URN. */
  owner: string;
  /** The project the session belongs to. */
  project_id: string;
  /** Creation time, ISO 8601 UTC. */
  created_at: string;
  /** Runs created by the session. */
  training_run_ids: string[];
  /** Samplers created by the session. */
  sampler_ids: string[];
  /** Whether exporting its trace fails with "no events found". */
  trace_fails: boolean;
  /** Session metadata, or null. */
  user_metadata: Record<string, string> | null;
  /** Display name (SDK 0.38), or null. */
  display_name: string | null;
  /** For sessions opened through `create_session`: tags, heartbeats and how they ended. */
  live?: FakeLiveSession;
}

/**
 * What the fake knows of a session a client opened (`create_session`).
 *
 * @example
 * ```ts
 * import { startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker();
 * const open = [...fake.state!.sessions.values()].filter((s) => s.live && !s.live.finished);
 * console.log(open.length); // 0
 * ```
 */
export interface FakeLiveSession {
  /** Tags sent at creation. */
  tags: string[];
  /** The `sdk_version` sent at creation. */
  sdk_version: string;
  /** `Date.now()` of the creation or the last heartbeat. */
  last_heartbeat: number;
  /** How many heartbeats arrived. */
  heartbeats: number;
  /** The finish reason and detail, once finished (first one wins). */
  finished: { reason: string; detail: string | null } | null;
}

/**
 * A model created in a session (`load_weights` with a session and model sequence id).
 *
 * @example
 * ```ts
 * import { startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker();
 * console.log(fake.state!.models.size); // 0 until a client creates one
 * ```
 */
export interface FakeModel {
  /** `<session>:train:<model_seq_id>`, also its training run's id. */
  model_id: string;
  /** The session it belongs to. */
  session_id: string;
  /** The checkpoint it was loaded from. */
  loaded_from: string;
  /** The highest sequence id applied so far (the load is 0). */
  last_seq_id: number;
  /** Request ids by sequence id (a resent sequence id gets the same future). */
  requests: Map<number, string>;
  /**
   * Requests that arrived ahead of an earlier sequence id (the SDK sends a
   * chunked batch's first chunk last), held until it comes or a moment passes.
   */
  held?: Map<number, { future: string; apply: () => unknown; since: number }>;
}

/**
 * A server-side future: what `retrieve_future` answers for its request id.
 *
 * @example
 * ```ts
 * import { startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker();
 * console.log([...fake.state!.futures.values()].filter((f) => f.cancelled).length); // 0
 * ```
 */
export interface FakeFuture {
  /** The id the submit answered with. */
  request_id: string;
  /** The SDK's name of the request (`LoadWeights`, `SaveWeightsExternal`, …). */
  request_type: string;
  /** `Date.now()` when the result is ready. */
  ready_at: number;
  /** `try_again` answers still to give. */
  try_again_left: number;
  /** The result, or the failure, once ready. */
  outcome: { result: unknown } | { error: string; category: string };
  /** The result as protobuf, for a poll that accepts `application/x-protobuf`. */
  proto?: Uint8Array | undefined;
  /** Applies a held request whose wait is over (see `FakeModel.held`); called by each poll. */
  release?: (() => void) | undefined;
  /** Whether `cancel_future` named it. */
  cancelled: boolean;
  /** How many times `retrieve_future` asked for it. */
  polls: number;
}

/**
 * A sampler exactly as `GET /api/v1/samplers/{id}` returns it.
 *
 * @example
 * ```ts
 * import { FAKE_IDS, startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker();
 * console.log(fake.state!.samplers.get(FAKE_IDS.samplerId)!.model_path);
 * ```
 */
export interface FakeSampler {
  /** `<session-uuid>:sample:<n>`. */
  sampler_id: string;
  /** Base model name. */
  base_model: string;
  /** Loaded sampler weights, or null for the base model. */
  model_path: string | null;
}

/**
 * An audit log entry exactly as the API serializes it.
 *
 * @example
 * ```ts
 * import { FAKE_IDS, startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker();
 * console.log(fake.state!.audit.map((e) => e.event));
 * ```
 */
export interface FakeAuditEntry {
  /** ISO 8601 UTC. */
  timestamp: string;
  /** `<resource>_<action>`, e.g. `"checkpoint_read"`. */
  event: string;
  /** Who did what. */
  event_details: Record<string, unknown>;
  /** Run id for checkpoint events, else null. */
  model_id: string | null;
  /** Checkpoint path for checkpoint events, else null. */
  tinker_path: string | null;
  /** Why a checkpoint was read, else null. */
  purpose: string | null;
}

/**
 * A billing usage event exactly as the API serializes it.
 *
 * @example
 * ```ts
 * import { FAKE_IDS, startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker();
 * console.log(fake.state!.billing.map((e) => e.event_info.type));
 * ```
 */
export interface FakeBillingEvent {
  /** Inclusive hour start, ISO 8601 UTC. */
  bucket_start: string;
  /** Exclusive hour end, ISO 8601 UTC. */
  bucket_end: string;
  /** Base model, or null for storage. */
  base_model: string | null;
  /** Session creator URN. */
  user_id: string | null;
  /** Session creator name. */
  user_name: string | null;
  /** Session id, or null for storage. */
  session_id: string | null;
  /** Project id, or null. */
  project_id: string | null;
  /** Estimated gross cost, or null. */
  estimated_cost_usd: number | null;
  /** Rate behind the cost of token events (USD per million tokens), else null. */
  effective_rate_usd_per_million_tokens: number | null;
  /** Rate behind the cost of storage events (USD per GB-month), else null. */
  effective_rate_usd_per_gigabyte_month: number | null;
  /** The usage kind and its quantity. */
  event_info: Record<string, unknown>;
}

/**
 * How much data a seed creates. Ids of the entities it contains never depend on these numbers.
 *
 * @example
 * ```ts
 * import { startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker({ seed: { userCheckpoints: 10_000 } });
 * console.log(fake.state!.userCheckpoints().length); // 10000
 * ```
 */
export interface FakeSeedOptions {
  /**
   * Training runs owned by the caller (default 24). Run 0 is the big run, run 2 is corrupted;
   * runs 1, 5, 9, … that have checkpoints also hold an `external_weights/` export.
   */
  runs?: number;
  /** Checkpoints on each ordinary run that has any (default 2: a `weights/` and a `sampler_weights/`). */
  checkpointsPerRun?: number;
  /** Checkpoints on the big run (default 250, alternating `weights/` and `sampler_weights/`). */
  bigRunCheckpoints?: number;
  /** Raise the caller's total checkpoint count to at least this by adding checkpoints to ordinary runs. */
  userCheckpoints?: number;
}

/**
 * The data a fake server holds. Mutating it changes what the API answers.
 *
 * @example
 * ```ts
 * import { FAKE_IDS, startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker();
 * fake.state!.sessions.get(FAKE_IDS.sessionId)!.trace_fails = true;
 * console.log(fake.state!.listRuns(false).length); // 24
 * ```
 */
export interface FakeState {
  /** The caller's user URN (the JWT `sub`). */
  readonly user: string;
  /** Every run, owned or not, by id. */
  readonly runs: Map<string, FakeRun>;
  /** Every session by id. */
  readonly sessions: Map<string, FakeSession>;
  /** Every sampler by id. */
  readonly samplers: Map<string, FakeSampler>;
  /** Audit entries sorted by timestamp. */
  readonly audit: FakeAuditEntry[];
  /** Billing events sorted by bucket. */
  readonly billing: FakeBillingEvent[];
  /** Trace export polls so far, by session id. */
  readonly tracePolls: Map<string, number>;
  /** Archive requests answered 503 so far, by tinker path. */
  readonly archivePolls: Map<string, number>;
  /** Models created in sessions, by model id. */
  readonly models: Map<string, FakeModel>;
  /** Server-side futures, by request id. */
  readonly futures: Map<string, FakeFuture>;
  /** Adds a session; clears the caches. */
  addSession(session: FakeSession): void;
  /** Adds a checkpoint to a run; clears the caches. */
  addCheckpoint(runId: string, checkpoint: FakeCheckpoint): void;
  /** Finds a checkpoint of a run by its kind-prefixed id. */
  checkpoint(runId: string, checkpointId: string): FakeCheckpoint | undefined;
  /** The caller's runs (or, with `accessible`, every run), newest first. Cached. */
  listRuns(accessible: boolean): readonly FakeRun[];
  /** The caller's sessions (or every session), newest first. Cached. */
  listSessions(accessible: boolean): readonly FakeSession[];
  /** Every checkpoint of the caller's runs, newest first. Cached. */
  userCheckpoints(): readonly FakeCheckpoint[];
  /** Adds a run (and its session link); clears the caches. */
  addRun(run: FakeRun): void;
  /** Removes a checkpoint; returns whether it existed. */
  deleteCheckpoint(runId: string, checkpointId: string): boolean;
}

const OTHER_USER_SEED = "foreign-user";
const BASE_MODELS = [
  "Qwen/Qwen3-8B",
  "Qwen/Qwen3-30B-A3B-Base",
  "meta-llama/Llama-3.1-8B",
  "meta-llama/Llama-3.2-1B",
  "Qwen/Qwen3.5-9B-Base",
] as const;
/** Sampler-adapter megabytes at LoRA rank 32, per base model. */
const ADAPTER_MB: Record<string, number> = {
  "Qwen/Qwen3-8B": 87,
  "Qwen/Qwen3-30B-A3B-Base": 214,
  "meta-llama/Llama-3.1-8B": 84,
  "meta-llama/Llama-3.2-1B": 22,
  "Qwen/Qwen3.5-9B-Base": 96,
};
const RANKS = [8, 16, 32, 64] as const;
const PROJECTS = ["proj-alpha", "proj-beta", "proj-default"] as const;
const DAY_MS = 86_400_000;
const WINDOW_START = Date.UTC(2026, 7, 1);
const NEVER_BEFORE_2030 = Date.UTC(2030, 0, 1);
const DEFAULT_SEED: Required<FakeSeedOptions> = {
  runs: 24,
  checkpointsPerRun: 2,
  bigRunCheckpoints: 250,
  userCheckpoints: 0,
};

/** A small deterministic PRNG (mulberry32) seeded from a string key. */
export function prng(key: string): () => number {
  let a = 2166136261;
  for (let i = 0; i < key.length; i++) a = Math.imul(a ^ key.charCodeAt(i), 16777619);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A version-4-shaped UUID drawn from `rand`. */
export function uuid(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16));
  hex[12] = "4";
  hex[16] = "89ab"[Math.floor(rand() * 4)]!;
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** ISO 8601 UTC with six fractional digits, e.g. `2026-09-14T08:21:07.123456Z`. */
export function isoMicros(ms: number, micros = 0): string {
  return new Date(Math.floor(ms)).toISOString().replace("Z", `${String(micros).padStart(3, "0")}Z`);
}

const pick = <T>(rand: () => number, items: readonly T[]): T =>
  items[Math.floor(rand() * items.length)]!;
const sessionKey = (i: number) => `session:${i}`;
const userUrn = (key: string) => `tml:organization_user:${uuid(prng(key))}`;

/** Builds the kind-prefixed id of checkpoint `j` of a run: pairs of weights/sampler_weights per step of 10. */
function checkpointId(j: number): string {
  const step = String((Math.floor(j / 2) + 1) * 10).padStart(6, "0");
  return `${j % 2 === 0 ? "weights" : "sampler_weights"}/${step}`;
}

function makeCheckpoints(
  runId: string,
  count: number,
  startMs: number,
  model: string,
  rank: number,
  publicEvery: number,
): FakeCheckpoint[] {
  const rand = prng(`checkpoints:${runId}`);
  const samplerBytes = (ADAPTER_MB[model] ?? 80) * 1048576 * (rank / 32);
  return Array.from({ length: count }, (_, j) => {
    const id = checkpointId(j);
    const training = id.startsWith("weights/");
    const time = startMs + ((j + 1) * 2 * DAY_MS) / (count + 1);
    return {
      checkpoint_id: id,
      checkpoint_type: training ? "training" : "sampler",
      time: isoMicros(time + rand() * 1000, Math.floor(rand() * 1000)),
      tinker_path: `tinker://${runId}/${id}`,
      size_bytes: Math.round(samplerBytes * (training ? 3 : 1) * (0.97 + rand() * 0.06)),
      public: !training && j % publicEvery === 1,
      user_metadata: j % 10 === 5 ? { stage: "eval", step: id.slice(-6) } : null,
      expires_at: j % 10 === 3 ? isoMicros(NEVER_BEFORE_2030 + rand() * 300 * DAY_MS) : null,
    };
  });
}

/**
 * An external-weights export (`external_weights/<name>`, SDK 0.38) of a run's
 * first training checkpoint, made just after it; its own PRNG stream keeps
 * every other value of the seed unchanged.
 */
function externalCheckpoint(runId: string, from: FakeCheckpoint): FakeCheckpoint {
  const rand = prng(`external:${runId}`);
  const id = `external_weights/${from.checkpoint_id.split("/")[1]}`;
  return {
    checkpoint_id: id,
    checkpoint_type: "external",
    time: isoMicros(parseIso(from.time) + 600_000 + rand() * 60_000, Math.floor(rand() * 1000)),
    tinker_path: `tinker://${runId}/${id}`,
    size_bytes: Math.round((from.size_bytes ?? 0) / 3),
    public: false,
    user_metadata: { format: "peft" },
    expires_at: null,
  };
}

interface RunSpec {
  runId: string;
  sessionId: string;
  owner: string;
  index: number;
  startMs: number;
  checkpoints: number;
  corrupted: boolean;
  /** Whether the run also has an external-weights export of its first checkpoint. */
  external: boolean;
}

function makeRun(spec: RunSpec, publicEvery: number): FakeRun {
  const rand = prng(`run:${spec.runId}`);
  const model = pick(rand, BASE_MODELS);
  const fullFineTune = spec.index % 11 === 7;
  const rank = pick(rand, RANKS);
  const checkpoints = makeCheckpoints(
    spec.runId,
    spec.checkpoints,
    spec.startMs,
    model,
    rank,
    publicEvery,
  );
  const first = checkpoints[0];
  if (spec.external && first?.checkpoint_type === "training") {
    const external = externalCheckpoint(spec.runId, first);
    const at = checkpoints.findIndex((c) => c.time > external.time);
    checkpoints.splice(at < 0 ? checkpoints.length : at, 0, external);
  }
  const last = checkpoints.at(-1);
  const lastMs = last ? parseIso(last.time) : spec.startMs;
  return {
    training_run_id: spec.runId,
    base_model: model,
    model_owner: spec.owner,
    is_lora: !fullFineTune,
    corrupted: spec.corrupted,
    lora_rank: fullFineTune ? null : rank,
    last_request_time: isoMicros(lastMs + 60_000 + rand() * 600_000, Math.floor(rand() * 1000)),
    user_metadata: spec.index % 3 === 0
      ? { experiment: pick(rand, ["sft-tulu3", "rl-math", "dpo-helpsteer"]), owner: "ada" }
      : null,
    session_id: spec.sessionId,
    checkpoints,
  };
}

function sessionIdOf(i: number): string {
  return uuid(prng(sessionKey(i)));
}

/** Builds the state for a seed; `false` gives an empty service. */
export function createState(seed: FakeSeedOptions | false = {}): FakeState {
  const state = new State(userUrn("caller"));
  if (seed === false) return state;
  const opts = { ...DEFAULT_SEED, ...seed };
  const perRun = Array.from(
    { length: opts.runs },
    (_, i) =>
      i === 0 ? opts.bigRunCheckpoints : i === 2 || i % 3 === 2 ? 0 : opts.checkpointsPerRun,
  );
  const ordinary = perRun.map((_, i) => i).filter((i) => i !== 0 && i !== 2);
  const external = perRun.map((n, i) => i % 4 === 1 && n > 0);
  let missing = opts.userCheckpoints - perRun.reduce((a, b) => a + b, 0) -
    external.filter(Boolean).length;
  for (let k = 0; missing > 0 && ordinary.length > 0; k++, missing--) {
    const i = ordinary[k % ordinary.length]!;
    perRun[i] = perRun[i]! + 1;
  }
  for (let i = 0; i < opts.runs; i++) {
    const s = Math.floor(i / 2);
    const runId = `${sessionIdOf(s)}:train:${i % 2}`;
    // Golden-ratio spacing spreads any number of runs over 57 days without depending on the count.
    const startMs = WINDOW_START + ((i * 0.6180339887) % 1) * 57 * DAY_MS +
      prng(`start:${i}`)() * 3_600_000;
    state.addRun(makeRun({
      runId,
      sessionId: sessionIdOf(s),
      owner: state.user,
      index: i,
      startMs,
      checkpoints: perRun[i]!,
      corrupted: i === 2,
      external: external[i]!,
    }, i === 0 ? 25 : 2));
  }
  const foreignSession = uuid(prng("session:foreign"));
  for (let i = 0; i < 3; i++) {
    state.addRun(makeRun({
      runId: `${foreignSession}:train:${i}`,
      sessionId: foreignSession,
      owner: userUrn(OTHER_USER_SEED),
      index: 100 + i,
      startMs: WINDOW_START + (10 + 15 * i) * DAY_MS,
      checkpoints: 2,
      corrupted: false,
      external: false,
    }, 2));
  }
  finishSessions(state);
  seedAudit(state);
  seedBilling(state);
  return state;
}

/** Fills session fields that depend on their runs: creation time, samplers, project. */
function finishSessions(state: FakeState): void {
  let index = 0;
  for (const session of [...state.sessions.values()]) {
    const runs = session.training_run_ids.map((id) => state.runs.get(id)!);
    const firstCheckpointMs = Math.min(
      ...runs.map((r) => parseIso(r.checkpoints[0]?.time ?? r.last_request_time)),
    );
    session.created_at = isoMicros(firstCheckpointMs - 3_600_000);
    const i = index++;
    session.project_id = PROJECTS[i % 3]!;
    session.trace_fails = i === 7;
    session.user_metadata = i % 2 === 0 ? { team: "post-training", ticket: `ML-${100 + i}` } : null;
    session.display_name = i % 4 === 0 ? `nightly-${i}` : null;
    if (i >= 8 && session.owner === state.user) continue;
    const samplerFrom = runs.flatMap((r) => r.checkpoints).findLast((c) =>
      c.checkpoint_type === "sampler"
    );
    const samplers: FakeSampler[] = [
      {
        sampler_id: `${session.session_id}:sample:0`,
        base_model: runs[0]!.base_model,
        model_path: samplerFrom?.tinker_path ?? null,
      },
    ];
    if (i % 2 === 0) {
      samplers.push({
        sampler_id: `${session.session_id}:sample:1`,
        base_model: runs[0]!.base_model,
        model_path: null,
      });
    }
    for (const sampler of samplers) {
      state.samplers.set(sampler.sampler_id, sampler);
      session.sampler_ids.push(sampler.sampler_id);
    }
  }
}

function seedAudit(state: FakeState): void {
  const mine = state.listRuns(false).filter((r) => r.checkpoints.length > 0);
  if (mine.length === 0) return;
  const rand = prng("audit");
  const actor = { user_urn: state.user, email: "ada@example.com" };
  for (let day = 12; day <= 14; day++) {
    for (let k = 0; k < 6; k++) {
      const run = pick(rand, mine);
      const ckpt = pick(rand, run.checkpoints);
      const ms = Date.UTC(
        2026,
        8,
        day,
        2 + k * 3,
        Math.floor(rand() * 60),
        Math.floor(rand() * 60),
      );
      const event = k === 5 ? "project_grant_set" : pick(rand, [
        "checkpoint_read",
        "checkpoint_read",
        "checkpoint_publish",
        "checkpoint_delete",
      ]);
      const checkpointEvent = event.startsWith("checkpoint_");
      const purpose = event === "checkpoint_read"
        ? pick(rand, ["download", "sampling", "training"])
        : null;
      state.audit.push({
        timestamp: isoMicros(ms, Math.floor(rand() * 1000)),
        event,
        event_details: checkpointEvent
          ? { actor, tinker_path: ckpt.tinker_path, ...(purpose ? { purpose } : {}) }
          : {
            actor,
            project_id: "proj-alpha",
            grantee: "tml:organization_user:team-ml",
            role: "viewer",
          },
        model_id: checkpointEvent ? run.training_run_id : null,
        tinker_path: checkpointEvent ? ckpt.tinker_path : null,
        purpose,
      });
    }
  }
}

/** USD per GB-month of checkpoint storage (the storage usage endpoint uses it too). */
export const STORAGE_RATE = 0.05;

/** Billing estimates before this instant are "invoice-reconciled" (`cost_data_through`). */
export const COST_DATA_THROUGH = "2026-07-13T07:00:00Z";

function seedBilling(state: FakeState): void {
  const sessions = state.listSessions(false).slice(0, 2);
  const rand = prng("billing");
  for (let hour = 5; hour < 9; hour++) {
    const start = Date.UTC(2026, 6, 13, hour);
    const bucket = { bucket_start: isoSeconds(start), bucket_end: isoSeconds(start + 3_600_000) };
    for (const session of sessions) {
      const run = state.runs.get(session.training_run_ids[0]!)!;
      const base = {
        ...bucket,
        base_model: run.base_model,
        user_id: session.owner,
        user_name: "Ada Lovelace",
        session_id: session.session_id,
        project_id: session.project_id,
      };
      const tokens = () => Math.floor(10_000 + rand() * 2_000_000);
      const priced = (info: Record<string, unknown>, rate: number | null): FakeBillingEvent => ({
        ...base,
        estimated_cost_usd: rate === null
          ? null
          : Math.round((info.token_count as number) * rate) / 1e6,
        effective_rate_usd_per_million_tokens: rate,
        effective_rate_usd_per_gigabyte_month: null,
        event_info: info,
      });
      state.billing.push(
        priced({ type: "training", token_count: tokens() }, 0.4),
        priced({ type: "sampling_prefill", cached: false, token_count: tokens() }, 0.2),
        priced({ type: "sampling_prefill", cached: true, token_count: tokens() }, 0.05),
        priced({ type: "sampling_sample", token_count: tokens() }, 0.6),
        {
          ...base,
          estimated_cost_usd: null,
          effective_rate_usd_per_million_tokens: null,
          effective_rate_usd_per_gigabyte_month: null,
          event_info: { type: "checkpoint", count: 1 + Math.floor(rand() * 4) },
        },
      );
    }
    const gigabyteHours = Math.round(rand() * 4000) / 100;
    state.billing.push({
      ...bucket,
      base_model: null,
      user_id: null,
      user_name: null,
      session_id: null,
      project_id: null,
      estimated_cost_usd: Math.round((STORAGE_RATE * gigabyteHours / 720) * 1e6) / 1e6,
      effective_rate_usd_per_million_tokens: null,
      effective_rate_usd_per_gigabyte_month: STORAGE_RATE,
      event_info: { type: "storage", free: false, gigabyte_hours: gigabyteHours },
    });
  }
}

/** Milliseconds since the epoch of an ISO 8601 string; extra fractional digits are ignored (portable across engines). */
export function parseIso(iso: string): number {
  return Date.parse(iso.replace(/(\.\d{3})\d+/, "$1"));
}

/** `2026-07-13T05:00:00Z`: RFC 3339 without fractional seconds. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

class State implements FakeState {
  readonly runs = new Map<string, FakeRun>();
  readonly sessions = new Map<string, FakeSession>();
  readonly samplers = new Map<string, FakeSampler>();
  readonly audit: FakeAuditEntry[] = [];
  readonly billing: FakeBillingEvent[] = [];
  readonly tracePolls = new Map<string, number>();
  readonly archivePolls = new Map<string, number>();
  readonly models = new Map<string, FakeModel>();
  readonly futures = new Map<string, FakeFuture>();
  #runLists: [FakeRun[], FakeRun[]] | undefined;
  #sessionLists: [FakeSession[], FakeSession[]] | undefined;
  #userCheckpoints: FakeCheckpoint[] | undefined;

  readonly user: string;

  constructor(user: string) {
    this.user = user;
  }

  checkpoint(runId: string, checkpointId: string): FakeCheckpoint | undefined {
    return this.runs.get(runId)?.checkpoints.find((c) => c.checkpoint_id === checkpointId);
  }

  listRuns(accessible: boolean): readonly FakeRun[] {
    this.#runLists ??= lists(
      [...this.runs.values()],
      (r) => r.model_owner === this.user,
      (r) => r.last_request_time,
    );
    return this.#runLists[accessible ? 1 : 0];
  }

  listSessions(accessible: boolean): readonly FakeSession[] {
    this.#sessionLists ??= lists(
      [...this.sessions.values()],
      (s) => s.owner === this.user,
      (s) => s.created_at,
    );
    return this.#sessionLists[accessible ? 1 : 0];
  }

  userCheckpoints(): readonly FakeCheckpoint[] {
    this.#userCheckpoints ??= this.listRuns(false).flatMap((r) => r.checkpoints).sort((a, b) =>
      a.time < b.time ? 1 : a.time > b.time ? -1 : a.tinker_path < b.tinker_path ? -1 : 1
    );
    return this.#userCheckpoints;
  }

  addRun(run: FakeRun): void {
    this.runs.set(run.training_run_id, run);
    let session = this.sessions.get(run.session_id);
    if (!session) {
      session = {
        session_id: run.session_id,
        owner: run.model_owner,
        project_id: "proj-default",
        created_at: run.last_request_time,
        training_run_ids: [],
        sampler_ids: [],
        trace_fails: false,
        user_metadata: null,
        display_name: null,
      };
      this.sessions.set(run.session_id, session);
    }
    session.training_run_ids.push(run.training_run_id);
    this.#runLists = this.#sessionLists = this.#userCheckpoints = undefined;
  }

  addSession(session: FakeSession): void {
    this.sessions.set(session.session_id, session);
    this.#sessionLists = undefined;
  }

  addCheckpoint(runId: string, checkpoint: FakeCheckpoint): void {
    const run = this.runs.get(runId)!;
    run.checkpoints.push(checkpoint);
    run.last_request_time = checkpoint.time;
    this.#userCheckpoints = undefined;
  }

  deleteCheckpoint(runId: string, checkpointId: string): boolean {
    const list = this.runs.get(runId)?.checkpoints;
    const at = list?.findIndex((c) => c.checkpoint_id === checkpointId) ?? -1;
    if (at < 0) return false;
    list!.splice(at, 1);
    this.#userCheckpoints = undefined;
    return true;
  }
}

/** `[owned, all]`, each newest first by `key`. */
function lists<T>(items: T[], owned: (item: T) => boolean, key: (item: T) => string): [T[], T[]] {
  const all = items.sort((a, b) => key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0);
  return [all.filter(owned), all];
}

/**
 * Well-known ids of the default seed (and of every seed that contains the entity).
 *
 * @example
 * ```ts
 * import { FAKE_IDS, type FakeIds } from "./mod.ts";
 *
 * const ids: FakeIds = FAKE_IDS;
 * console.log(ids.checkpointPath.startsWith(`tinker://${ids.run}/`)); // true
 * ```
 */
export interface FakeIds {
  /** The caller's user URN. */
  user: string;
  /** An ordinary LoRA run with a private `weights/000010`, a public `sampler_weights/000010` and an `external_weights/000010`. */
  run: string;
  /** A private training checkpoint of `run`. */
  checkpointPath: string;
  /** A public sampler checkpoint of `run`. */
  publicCheckpointPath: string;
  /** An external-weights checkpoint of `run` (`external_weights/000010`, files served by the storage origin). */
  externalCheckpointPath: string;
  /** The run with `bigRunCheckpoints` (default 250) checkpoints. */
  bigRun: string;
  /** A run with `corrupted: true` and no checkpoints. */
  corruptedRun: string;
  /** A run owned by someone else, visible only with `access_scope=accessible`. */
  foreignRun: string;
  /** The session that created `bigRun` and `run`. */
  sessionId: string;
  /** A sampler of `sessionId`, loaded with a sampler checkpoint. */
  samplerId: string;
  /** A session whose trace export fails with "no events found". */
  failingTraceSessionId: string;
  /** A session owned by someone else. */
  foreignSessionId: string;
}

const session0 = sessionIdOf(0);
const foreignSessionId = uuid(prng("session:foreign"));

/**
 * Ids that exist in the default seed, for tests and demos.
 *
 * @example Get a seeded run
 * ```ts
 * import { FAKE_IDS, startFakeTinker } from "./mod.ts";
 * await using fake = await startFakeTinker();
 * const res = await fetch(`${fake.url}/api/v1/training_runs/${FAKE_IDS.run}`, {
 *   headers: { "X-API-Key": fake.apiKey },
 * });
 * console.log((await res.json()).training_run_id === FAKE_IDS.run);
 * ```
 */
export const FAKE_IDS: Readonly<FakeIds> = Object.freeze({
  user: userUrn("caller"),
  run: `${session0}:train:1`,
  checkpointPath: `tinker://${session0}:train:1/weights/000010`,
  publicCheckpointPath: `tinker://${session0}:train:1/sampler_weights/000010`,
  externalCheckpointPath: `tinker://${session0}:train:1/external_weights/000010`,
  bigRun: `${session0}:train:0`,
  corruptedRun: `${sessionIdOf(1)}:train:0`,
  foreignRun: `${foreignSessionId}:train:0`,
  sessionId: session0,
  samplerId: `${session0}:sample:0`,
  failingTraceSessionId: sessionIdOf(7),
  foreignSessionId,
});
