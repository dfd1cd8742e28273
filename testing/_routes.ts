/**
 * The API routes of the fake Tinker service: routing on the raw path, auth,
 * FastAPI-style validation and the hosted service's answers.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import { detail, empty, invalid, json, type Reply } from "./_http.ts";
import {
  COST_DATA_THROUGH,
  type FakeCheckpoint,
  type FakeRun,
  type FakeSession,
  isoMicros,
  prng,
  STORAGE_RATE,
  uuid,
} from "./_state.ts";
import { type Context, SIGNED_URL_TTL_SECONDS, signUrl } from "./_storage.ts";
import { isReply, SESSION_ROUTES } from "./_routes_sessions.ts";
import { SAMPLING_ROUTES } from "./_routes_sampling.ts";
import { TRAINING_ROUTES } from "./_routes_training.ts";
import type { RecordedRequest } from "./_types.ts";
import { AUTH_ROUTES } from "./_auth_routes.ts";

type Handler = (ctx: Context, req: RecordedRequest, params: string[]) => Reply | Promise<Reply>;
type Methods = Partial<Record<string, Handler>>;

const KIND = ":kind"; // `weights`, `sampler_weights` or `external_weights`
const EXTERNAL = ":external"; // `external_weights` only
const KINDS = ["weights", "sampler_weights", "external_weights"];
const ANY = ":";
const CHECKPOINT = ["api", "v1", "training_runs", ANY, "checkpoints", KIND, ANY];
const EXTERNAL_CHECKPOINT = ["api", "v1", "training_runs", ANY, "checkpoints", EXTERNAL, ANY];
/** Files of an external-weights checkpoint, as `external_weights_urls` lists them. */
const EXTERNAL_FILES = ["adapter_config.json", "adapter_model.safetensors"];
const NOT_FOUND = "Checkpoint not found";
const EMAIL = "ada@example.com";
const ORG_ID = uuid(prng("organization"));
export const BASE_MODELS: [string, number][] = [
  ["Qwen/Qwen3-8B", 32768],
  ["Qwen/Qwen3-30B-A3B-Base", 32768],
  ["meta-llama/Llama-3.1-8B", 131072],
  ["meta-llama/Llama-3.2-1B", 131072],
  ["Qwen/Qwen3.5-9B-Base", 262144],
];

/** Answers an API request (everything under `/api/v1/`). */
export async function handleApi(ctx: Context, req: RecordedRequest): Promise<Reply> {
  let segments: string[];
  try {
    segments = req.path.split("/").slice(1).map(decodeURIComponent);
  } catch {
    return detail(404, "Not Found");
  }
  const matches = ROUTES.map(([pattern, methods]) => ({
    methods,
    params: match(pattern, segments),
  }))
    .filter((m) => m.params !== undefined);
  if (matches.length === 0) return detail(404, "Not Found");
  const found = matches.find((m) => m.methods[req.method] !== undefined);
  if (!found) return detail(405, "Method Not Allowed");
  if (segments.join("/") !== "api/v1/healthz" && !authenticated(ctx, req.headers["x-api-key"])) {
    return detail(401, "Unable to validate credential");
  }
  return await found.methods[req.method]!(ctx, req, found.params!);
}

/** The route params if `segments` fit `pattern`. */
function match(pattern: string[], segments: string[]): string[] | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i]!, got = segments[i]!;
    if (want === ANY && got !== "") params.push(got);
    else if (want === KIND && KINDS.includes(got)) params.push(got);
    else if (want === EXTERNAL && got === "external_weights") params.push(got);
    else if (want !== got) return undefined;
  }
  return params;
}

// ---- auth ------------------------------------------------------------------

const b64url = (data: string | Uint8Array) => Buffer.from(data).toString("base64url");
const hmac = (ctx: Context, text: string) =>
  createHmac("sha256", ctx.secret).update(text).digest("base64url");

function issueJwt(ctx: Context): string {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify({
    sub: ctx.state.user,
    email: EMAIL,
    org_id: ORG_ID,
    iss: "passport-fake",
    iat: now,
    exp: now + ctx.options.jwtTtlSeconds,
  }));
  return `${head}.${body}.${hmac(ctx, `${head}.${body}`)}`;
}

function authenticated(ctx: Context, key: string | undefined): boolean {
  if (key === undefined) return false;
  if (key === ctx.options.apiKey) return true;
  const [head, body, sig, extra] = key.split(".");
  if (!head || !body || !sig || extra !== undefined) return false;
  const want = Buffer.from(hmac(ctx, `${head}.${body}`));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return false;
  const exp = (JSON.parse(Buffer.from(body, "base64url").toString()) as { exp: number }).exp;
  return exp > Date.now() / 1000;
}

// ---- query and body validation -------------------------------------------

/** The last value of a query parameter, as FastAPI reads it. */
function query(req: RecordedRequest, name: string): string | undefined {
  return req.query.findLast(([k]) => k === name)?.[1];
}

function intQuery(
  req: RecordedRequest,
  name: string,
  fallback: number,
  min: number,
): number | Reply {
  const raw = query(req, name);
  if (raw === undefined) return fallback;
  if (!/^[+-]?\d+$/.test(raw.trim())) {
    return invalid(
      ["query", name],
      "int_parsing",
      "Input should be a valid integer, unable to parse string as an integer",
      raw,
    );
  }
  const value = Number(raw);
  if (value < min) {
    return invalid(
      ["query", name],
      "greater_than_equal",
      `Input should be greater than or equal to ${min}`,
      raw,
      { ge: min },
    );
  }
  return value;
}

function enumQuery<T extends string>(
  req: RecordedRequest,
  name: string,
  allowed: readonly T[],
): T | Reply {
  const raw = query(req, name) ?? allowed[0]!;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  const expected = allowed.map((a) => `'${a}'`).join(", ").replace(/, ([^,]*)$/, " or $1");
  return invalid(["query", name], "enum", `Input should be ${expected}`, raw, { expected });
}

const accessScope = (req: RecordedRequest) =>
  enumQuery(req, "access_scope", ["owned", "accessible"] as const);

function paging(
  req: RecordedRequest,
  defaultLimit: number,
): { limit: number; offset: number } | Reply {
  const limit = intQuery(req, "limit", defaultLimit, 1);
  if (typeof limit !== "number") return limit;
  const offset = intQuery(req, "offset", 0, 0);
  if (typeof offset !== "number") return offset;
  return { limit, offset };
}

/** The JSON object body, or FastAPI's 422. */
function bodyObject(req: RecordedRequest): Record<string, unknown> | Reply {
  if (req.json !== null && typeof req.json === "object" && !Array.isArray(req.json)) {
    return req.json as Record<string, unknown>;
  }
  if (req.body === "") return invalid(["body"], "missing", "Field required", null);
  return invalid(
    ["body"],
    "model_attributes_type",
    "Input should be a valid dictionary or object to extract fields from",
    req.body,
  );
}

// ---- views -----------------------------------------------------------------

function runJson(run: FakeRun) {
  return {
    training_run_id: run.training_run_id,
    base_model: run.base_model,
    model_owner: run.model_owner,
    is_lora: run.is_lora,
    corrupted: run.corrupted,
    lora_rank: run.lora_rank,
    last_request_time: run.last_request_time,
    last_checkpoint: run.checkpoints.findLast((c) => c.checkpoint_type === "training") ?? null,
    last_sampler_checkpoint: run.checkpoints.findLast((c) => c.checkpoint_type === "sampler") ??
      null,
    user_metadata: run.user_metadata,
  };
}

const owned = (ctx: Context, run: FakeRun | FakeSession | undefined) =>
  run !== undefined && ("model_owner" in run ? run.model_owner : run.owner) === ctx.state.user;

/** The SDK's tinker-path grammar: `tinker://<run>/<weights|sampler_weights|external_weights>/<name>`. */
function parseTinkerPath(path: string): { runId: string; checkpointId: string } | undefined {
  if (!path.startsWith("tinker://")) return undefined;
  const parts = path.slice(9).split("/");
  if (parts.length !== 3 || !KINDS.includes(parts[1]!)) return undefined;
  return { runId: parts[0]!, checkpointId: `${parts[1]}/${parts[2]}` };
}

/** A checkpoint the caller may read: its own, or a public one. */
export function readable(ctx: Context, runId: string, checkpointId: string) {
  const run = ctx.state.runs.get(runId);
  const checkpoint = ctx.state.checkpoint(runId, checkpointId);
  return run && checkpoint && (owned(ctx, run) || checkpoint.public)
    ? { run, checkpoint }
    : undefined;
}

/** A checkpoint of one of the caller's runs, from route params `[run, kind, name]`. */
function ownCheckpoint(ctx: Context, [runId, kind, name]: string[]): FakeCheckpoint | undefined {
  return owned(ctx, ctx.state.runs.get(runId!))
    ? ctx.state.checkpoint(runId!, `${kind}/${name}`)
    : undefined;
}

// ---- handlers --------------------------------------------------------------

function getRun(ctx: Context, req: RecordedRequest, [id]: string[]): Reply {
  const scope = accessScope(req);
  if (isReply(scope)) return scope;
  const run = ctx.state.runs.get(id!);
  if (!run || (scope === "owned" && !owned(ctx, run))) return detail(404, "Training run not found");
  return json(200, runJson(run));
}

function listRuns(ctx: Context, req: RecordedRequest): Reply {
  const page = paging(req, 20);
  if (isReply(page)) return page;
  const scope = accessScope(req);
  if (isReply(scope)) return scope;
  const project = query(req, "project_id");
  let runs = ctx.state.listRuns(scope === "accessible");
  if (project !== undefined) {
    runs = runs.filter((r) => ctx.state.sessions.get(r.session_id)?.project_id === project);
  }
  return json(200, {
    training_runs: runs.slice(page.offset, page.offset + page.limit).map(runJson),
    cursor: { offset: page.offset, limit: page.limit, total_count: runs.length },
  });
}

function listRunCheckpoints(ctx: Context, _req: RecordedRequest, [id]: string[]): Reply {
  const run = ctx.state.runs.get(id!);
  if (!run) return detail(404, "Training run not found");
  return json(200, { checkpoints: run.checkpoints, cursor: null });
}

function listUserCheckpoints(ctx: Context, req: RecordedRequest): Reply {
  const page = paging(req, 100);
  if (isReply(page)) return page;
  const all = ctx.state.userCheckpoints();
  return json(200, {
    checkpoints: all.slice(page.offset, page.offset + page.limit),
    cursor: { offset: page.offset, limit: page.limit, total_count: all.length },
  });
}

function deleteCheckpoint(ctx: Context, _req: RecordedRequest, params: string[]): Reply {
  const checkpoint = ownCheckpoint(ctx, params);
  if (!checkpoint) return detail(404, NOT_FOUND);
  ctx.state.deleteCheckpoint(params[0]!, checkpoint.checkpoint_id);
  return empty();
}

function publish(value: boolean): Handler {
  return (ctx, _req, params) => {
    const checkpoint = ownCheckpoint(ctx, params);
    if (!checkpoint) return detail(404, NOT_FOUND);
    if (checkpoint.public === value) {
      return detail(409, `Checkpoint is already ${value ? "public" : "private"}`);
    }
    checkpoint.public = value;
    return empty();
  };
}

function setTtl(ctx: Context, req: RecordedRequest, params: string[]): Reply {
  const body = bodyObject(req);
  if (isReply(body)) return body;
  const checkpoint = ownCheckpoint(ctx, params);
  if (!checkpoint) return detail(404, NOT_FOUND);
  const ttl = body.ttl_seconds;
  if (!("ttl_seconds" in body)) {
    return invalid(["body", "ttl_seconds"], "missing", "Field required", body);
  }
  if (ttl !== null && !Number.isInteger(ttl)) {
    return invalid(["body", "ttl_seconds"], "int_type", "Input should be a valid integer", ttl);
  }
  if (typeof ttl === "number" && ttl <= 0) return detail(400, "ttl_seconds must be greater than 0");
  checkpoint.expires_at = typeof ttl === "number" ? isoMicros(Date.now() + ttl * 1000) : null;
  return empty();
}

function archive(ctx: Context, _req: RecordedRequest, [runId, kind, name]: string[]): Reply {
  const found = kind === "external_weights" ? undefined : readable(ctx, runId!, `${kind}/${name}`);
  if (!found) return detail(404, NOT_FOUND);
  const { options, state } = ctx;
  const path = found.checkpoint.tinker_path;
  if (options.archiveMode === "not-ready") {
    const polls = state.archivePolls.get(path) ?? 0;
    if (polls < options.archiveNotReadyCount) {
      state.archivePolls.set(path, polls + 1);
      return detail(503, "Archive is being prepared, try again later");
    }
  }
  const now = Date.now();
  const url = signUrl(
    ctx,
    `/signed/${encodeURIComponent(runId!)}/${kind}/${encodeURIComponent(name!)}.tar`,
    now,
  );
  const expires = new Date(now + SIGNED_URL_TTL_SECONDS * 1000);
  if (options.archiveMode === "json") return json(200, { url, expires: expires.toISOString() });
  return empty(302, {
    location: url,
    ...(options.archiveMode === "redirect-no-expires" ? {} : { expires: expires.toUTCString() }),
  });
}

/** Signed URLs of an external-weights checkpoint's files (SDK 0.38), valid 15 minutes. */
function externalWeightsUrls(
  ctx: Context,
  _req: RecordedRequest,
  [runId, kind, name]: string[],
): Reply {
  const found = readable(ctx, runId!, `${kind}/${name}`);
  if (!found) return detail(404, NOT_FOUND);
  const now = Date.now();
  const base = `/signed/${encodeURIComponent(runId!)}/${kind}/${encodeURIComponent(name!)}`;
  const urls = Object.fromEntries(
    EXTERNAL_FILES.map((file) => [file, signUrl(ctx, `${base}/${file}`, now)]),
  );
  const expires = isoMicros(now + SIGNED_URL_TTL_SECONDS * 1000);
  return json(200, { urls, expires });
}

function weightsInfo(ctx: Context, req: RecordedRequest): Reply {
  const body = bodyObject(req);
  if (isReply(body)) return body;
  if (typeof body.tinker_path !== "string") {
    return invalid(["body", "tinker_path"], "missing", "Field required", body);
  }
  const parsed = parseTinkerPath(body.tinker_path);
  if (!parsed) return detail(400, `Invalid tinker path: ${body.tinker_path}`);
  const found = readable(ctx, parsed.runId, parsed.checkpointId);
  if (!found) return detail(404, NOT_FOUND);
  const { run } = found;
  return json(200, {
    base_model: run.base_model,
    // SDK 0.38: Adam for LoRA runs; the full fine-tunes use Dimuon, to vary it.
    optimizer_config: run.is_lora ? { type: "adamw" } : { type: "dimuon", version: 1 },
    is_lora: run.is_lora,
    lora_rank: run.lora_rank,
    train_unembed: run.is_lora ? true : null,
    train_mlp: run.is_lora ? true : null,
    train_attn: run.is_lora ? true : null,
  });
}

function getSession(ctx: Context, req: RecordedRequest, [id]: string[]): Reply {
  const scope = accessScope(req);
  if (isReply(scope)) return scope;
  const session = ctx.state.sessions.get(id!);
  if (!session || (scope === "owned" && !owned(ctx, session))) {
    return detail(404, "Session not found");
  }
  return json(200, {
    training_run_ids: session.training_run_ids,
    sampler_ids: session.sampler_ids,
    user_metadata: session.user_metadata,
    display_name: session.display_name,
  });
}

function listSessions(ctx: Context, req: RecordedRequest): Reply {
  const page = paging(req, 20);
  if (isReply(page)) return page;
  const scope = accessScope(req);
  if (isReply(scope)) return scope;
  const sessions = ctx.state.listSessions(scope === "accessible").slice(
    page.offset,
    page.offset + page.limit,
  );
  return json(200, { sessions: sessions.map((s) => s.session_id) });
}

function assignProject(ctx: Context, req: RecordedRequest, [id]: string[]): Reply {
  const body = bodyObject(req);
  if (isReply(body)) return body;
  const session = ctx.state.sessions.get(id!);
  if (!session || !owned(ctx, session)) return detail(404, "Session not found");
  if (typeof body.project_id !== "string" || body.project_id === "") {
    return detail(400, "project_id is required");
  }
  session.project_id = body.project_id;
  return empty();
}

function traceExport(ctx: Context, _req: RecordedRequest, [id]: string[]): Reply {
  const session = ctx.state.sessions.get(id!);
  if (!session || !owned(ctx, session)) return detail(404, "Session not found");
  if (session.trace_fails) {
    return json(200, { status: "failed", url: null, error: "no events found" });
  }
  const polls = (ctx.state.tracePolls.get(session.session_id) ?? 0) + 1;
  ctx.state.tracePolls.set(session.session_id, polls);
  if (polls <= ctx.options.tracePendingCount) {
    return json(200, { status: "pending", url: null, error: null });
  }
  const url = signUrl(ctx, `/signed/traces/${session.session_id}.pftrace`);
  return json(200, { status: "ready", url, error: null });
}

function getSampler(ctx: Context, _req: RecordedRequest, [id]: string[]): Reply {
  const sampler = ctx.state.samplers.get(id!);
  return sampler ? json(200, sampler) : detail(404, "Sampler not found");
}

const AUDIT_TYPES = ["all", "checkpoints", "projects", "teams", "organizations"] as const;
const AUDIT_PREFIX: Record<string, string> = {
  checkpoints: "checkpoint_",
  projects: "project_",
  teams: "team_",
  organizations: "organization_",
};

function auditLog(ctx: Context, req: RecordedRequest): Reply {
  const type = enumQuery(req, "event_type", AUDIT_TYPES);
  if (isReply(type)) return type;
  const day = query(req, "day") ?? ctx.state.audit.at(-1)?.timestamp.slice(0, 10) ??
    new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(parseTimestamp(day))) {
    return invalid(
      ["query", "day"],
      "date_from_datetime_parsing",
      "Input should be a valid date",
      day,
    );
  }
  const prefix = AUDIT_PREFIX[type] ?? "";
  const entries = ctx.state.audit.filter((e) =>
    e.timestamp.startsWith(day) && e.event.startsWith(prefix)
  );
  if (!ctx.options.auditRedirect) return json(200, { entries });
  const object = `audit/${day}-${crypto.randomUUID()}.json`;
  ctx.parked.set(object, JSON.stringify({ entries }));
  return empty(302, { location: signUrl(ctx, `/signed/${object}`) });
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|z|[+-]\d{2}:?\d{2})?)?$/;

/** Milliseconds of an RFC 3339 / ISO 8601 timestamp (naive = UTC), or NaN. */
function parseTimestamp(text: string): number {
  const m = RFC3339.exec(text);
  if (!m) return NaN;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone = "Z"] = m;
  const ms = Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +s, Math.floor(Number(`0${frac}`) * 1000));
  const check = new Date(ms);
  if (
    check.getUTCMonth() !== +mo! - 1 || check.getUTCDate() !== +d! || +h > 23 || +mi > 59 || +s > 59
  ) return NaN;
  if (/^[Zz]$/.test(zone)) return ms;
  const sign = zone[0] === "-" ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  return ms - sign * (+digits.slice(0, 2) * 60 + +digits.slice(2)) * 60_000;
}

function billingUsage(ctx: Context, req: RecordedRequest): Reply {
  const bounds: number[] = [];
  for (const name of ["starting_on", "ending_before"]) {
    const raw = query(req, name);
    if (raw === undefined) return invalid(["query", name], "missing", "Field required", null);
    const ms = parseTimestamp(raw);
    if (Number.isNaN(ms)) {
      return invalid(
        ["query", name],
        "datetime_from_date_parsing",
        "Input should be a valid datetime or date",
        raw,
      );
    }
    if (ms % 3_600_000 !== 0) return detail(400, `${name} must be aligned to a UTC hour boundary`);
    bounds.push(ms);
  }
  const [start, end] = bounds as [number, number];
  if (end <= start) return detail(400, "ending_before must be after starting_on");
  if (end - start > 14 * 86_400_000) return detail(400, "The window must span at most 14 days");
  const data = ctx.state.billing.filter((e) => {
    const at = Date.parse(e.bucket_start);
    return at >= start && at < end;
  });
  const sessions: Record<string, { user_metadata: Record<string, string> | null }> = {};
  for (const e of data) {
    if (e.session_id) {
      sessions[e.session_id] = {
        user_metadata: ctx.state.sessions.get(e.session_id)?.user_metadata ?? null,
      };
    }
  }
  return json(200, { data, sessions, cost_data_through: COST_DATA_THROUGH });
}

function storageUsage(ctx: Context, req: RecordedRequest): Reply {
  const project = query(req, "project_id");
  const groups = new Map<
    string,
    { project_id: string; checkpoint_count: number; size_bytes: number }
  >();
  for (const run of ctx.state.listRuns(false)) {
    const projectId = ctx.state.sessions.get(run.session_id)?.project_id ?? "proj-default";
    if (project !== undefined && projectId !== project) continue;
    const group = groups.get(projectId) ??
      { project_id: projectId, checkpoint_count: 0, size_bytes: 0 };
    groups.set(projectId, group);
    for (const c of run.checkpoints) {
      group.checkpoint_count++;
      group.size_bytes += c.size_bytes ?? 0;
    }
  }
  const rate = STORAGE_RATE;
  return json(200, {
    effective_rate_usd_per_gigabyte_month: rate,
    data: [...groups.values()].map((g) => ({
      project_id: g.project_id,
      org_user_urn: ctx.state.user,
      user_email: EMAIL,
      user_name: "Ada Lovelace",
      checkpoint_count: g.checkpoint_count,
      size_bytes: g.size_bytes,
      size_gigabytes: g.size_bytes / 1e9,
      estimated_monthly_cost_usd: Math.round((g.size_bytes / 1e9) * rate * 100) / 100,
    })),
  });
}

function copyWeights(ctx: Context, req: RecordedRequest): Reply {
  const body = bodyObject(req);
  if (isReply(body)) return body;
  const source = typeof body.source_path === "string" ? body.source_path : undefined;
  if (source === undefined) {
    return invalid(["body", "source_path"], "missing", "Field required", body);
  }
  const parsed = parseTinkerPath(source);
  if (!parsed) return detail(400, `Invalid tinker path: ${source}`);
  const found = readable(ctx, parsed.runId, parsed.checkpointId);
  if (!found) return detail(404, NOT_FOUND);
  const project = body.destination_project_id;
  if (typeof project !== "string" || project === "") {
    return detail(400, "destination_project_id is required");
  }
  const ttl = body.ttl_seconds;
  if (
    ttl != null &&
    (!Number.isInteger(ttl) || (ttl as number) < 3600 || (ttl as number) > 315_360_000)
  ) {
    return detail(400, "ttl_seconds must be between 3600 and 315360000");
  }
  const sessionId = uuid(prng(`copy:${ctx.state.runs.size}`));
  const runId = `${sessionId}:train:0`;
  const now = Date.now();
  const checkpoint: FakeCheckpoint = {
    ...found.checkpoint,
    time: isoMicros(now),
    tinker_path: `tinker://${runId}/${found.checkpoint.checkpoint_id}`,
    public: false,
    expires_at: typeof ttl === "number" ? isoMicros(now + ttl * 1000) : null,
  };
  ctx.state.addRun({
    ...found.run,
    training_run_id: runId,
    model_owner: ctx.state.user,
    last_request_time: checkpoint.time,
    session_id: sessionId,
    checkpoints: [checkpoint],
  });
  ctx.state.sessions.get(sessionId)!.project_id = project;
  return json(200, { tinker_path: checkpoint.tinker_path });
}

function searchSessions(ctx: Context, req: RecordedRequest): Reply {
  const body = bodyObject(req);
  if (isReply(body)) return body;
  const limit = body.limit ?? 50;
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > 200) {
    return invalid(
      ["body", "limit"],
      "less_than_equal",
      "Input should be between 1 and 200",
      limit,
    );
  }
  const owner = (body.owner as { type?: string } | undefined)?.type ?? "own";
  const cursor = body.cursor as { last_session_id?: string } | null | undefined;
  const all = ctx.state.listSessions(owner !== "own");
  const start = cursor?.last_session_id
    ? all.findIndex((s) => s.session_id === cursor.last_session_id) + 1
    : 0;
  const page = all.slice(start, start + (limit as number));
  const last = page.at(-1);
  return json(200, {
    sessions: page.map((s) => {
      const runs = s.training_run_ids.map((id) => ctx.state.runs.get(id)!);
      const checkpoints = runs.flatMap((r) => r.checkpoints);
      return {
        session_id: s.session_id,
        created_at: s.created_at,
        owner: s.owner,
        project_id: s.project_id,
        status: { type: "client_finished", reason: { type: "success" }, detail: null },
        checkpoints_count: checkpoints.length,
        display_name: s.display_name,
        user_metadata: s.user_metadata,
        checkpoint_storage_bytes: checkpoints.reduce((n, c) => n + (c.size_bytes ?? 0), 0),
      };
    }),
    next_cursor: last && start + page.length < all.length
      ? { last_created_at: last.created_at, last_session_id: last.session_id }
      : null,
  });
}

const ROUTES: [string[], Methods][] = [
  [["api", "v1", "healthz"], { GET: () => json(200, { status: "ok" }) }],
  [["api", "v1", "client", "config"], {
    POST: (ctx) =>
      json(200, {
        pjwt_auth_enabled: ctx.options.jwtAuth,
        credential_default_source: "api_key",
        use_pyqwest_transport: false,
        sample_use_retrieve_futures: true,
        ...ctx.options.clientConfig,
      }),
  }],
  [["api", "v1", "auth", "token"], {
    POST: (ctx) =>
      ctx.options.jwtAuth ? json(200, { jwt: issueJwt(ctx) }) : detail(404, "Not Found"),
  }],
  [["api", "v1", "client", "dynamic_config"], {
    POST: () => json(200, { refresh_interval_sec: 300 }),
  }],
  [["api", "v1", "telemetry"], { POST: () => json(200, { status: "accepted" }) }],
  [["api", "v1", "get_server_capabilities"], {
    GET: () =>
      json(200, {
        supported_models: BASE_MODELS.map(([model_name, max_context_length]) => ({
          model_name,
          max_context_length,
          trainable: true,
          sampleable: true,
        })),
      }),
  }],
  [["api", "v1", "training_runs"], { GET: listRuns }],
  [["api", "v1", "training_runs", ANY], { GET: getRun }],
  [["api", "v1", "training_runs", ANY, "checkpoints"], { GET: listRunCheckpoints }],
  [CHECKPOINT, { DELETE: deleteCheckpoint }],
  [[...CHECKPOINT, "archive"], { GET: archive }],
  [[...EXTERNAL_CHECKPOINT, "external_weights_urls"], { GET: externalWeightsUrls }],
  [[...CHECKPOINT, "publish"], { POST: publish(true), DELETE: publish(false) }],
  [[...CHECKPOINT, "ttl"], { PUT: setTtl }],
  [["api", "v1", "checkpoints"], { GET: listUserCheckpoints }],
  [["api", "v1", "weights_info"], { POST: weightsInfo }],
  [["api", "v1", "copy_weights"], { POST: copyWeights }],
  [["api", "v1", "sessions"], { GET: listSessions }],
  [["api", "v1", "sessions", "search"], { POST: searchSessions }],
  [["api", "v1", "sessions", ANY], { GET: getSession }],
  [["api", "v1", "sessions", ANY, "project"], { PUT: assignProject }],
  [["api", "v1", "sessions", ANY, "trace_export"], { GET: traceExport }],
  [["api", "v1", "samplers", ANY], { GET: getSampler }],
  [["api", "v1", "audit"], { GET: auditLog }],
  [["api", "v1", "billing", "usage", "events"], { GET: billingUsage }],
  [["api", "v1", "billing", "usage", "checkpoints", "current"], { GET: storageUsage }],
  ...AUTH_ROUTES,
  ...TRAINING_ROUTES,
  ...SESSION_ROUTES,
  ...SAMPLING_ROUTES,
];
