/**
 * The conformance scenarios: each runs the same logical calls through the
 * official Python SDK (`py`, executed by `driver.py`) and through our client
 * (`ts`), each against a fresh fake server prepared the same way.
 *
 * @module
 */
import type { AdminClient, ClientOptions, RestClient, ServiceClient } from "../mod.ts";
import { createState } from "../testing/_state.ts";
import { FAKE_IDS, type FakeTinker, type FakeTinkerOptions } from "../testing/mod.ts";
import type { Difference } from "./compare.ts";
import { ARCHIVE_CONTRACT } from "./deliberate.ts";
import { SESSION_SCENARIOS } from "./scenarios_sessions.ts";
import { TRAINING_SCENARIOS } from "./scenarios_training.ts";
import { SAMPLING_SCENARIOS } from "./scenarios_sampling.ts";

/** Our clients for one scenario (built on first use). */
export interface Clients {
  readonly rest: RestClient;
  readonly admin: AdminClient;
  readonly service: ServiceClient;
  /** Clients a step made (a `TrainingClient`), by the name its `py.save` gives. */
  readonly saved: Map<string, unknown>;
}

/** A step of `driver.py`: one SDK call, or an SDK caller paging with limit/offset. */
export type PyStep =
  | { call: string; args?: unknown[]; kwargs?: Record<string, unknown>; save?: string }
  | { paginate: string; kwargs: Record<string, unknown>; items: string };

/** One logical call, both ways. */
export interface Step {
  py: PyStep;
  ts: (c: Clients) => unknown;
}

/** A request the 0.25 contract expects (archive scenarios). */
export interface ExpectedRequest {
  method: string;
  rawPath: string;
  /** Expected normalised header values; `null` means absent. */
  headers: Record<string, string | null>;
}

/** The 0.25 contract of a removed method, from the protocol doc. */
export interface Contract {
  deliberate: string;
  requests: ExpectedRequest[];
  /** The expected result, given the scenario's fake (already normalised placeholders). */
  result: unknown;
}

export interface Scenario {
  name: string;
  /** Options of both fresh fakes. */
  fake?: FakeTinkerOptions;
  /** Prepares each fake the same way (faults, data). */
  prepare?: (fake: FakeTinker) => void | Promise<void>;
  /** The key both clients use (default: the fake's); a function gets it from each fake. */
  apiKey?: string | ((fake: FakeTinker) => Promise<string>);
  /** Extra options of our client (e.g. short poll intervals). */
  client?: Partial<ClientOptions>;
  /** Environment variables both clients see (the SDK's process; our clients' `env` option). */
  env?: Record<string, string>;
  /** Policy tags that `deliberate.ts` rules may refer to. */
  tags?: string[];
  steps: Step[];
  /** Compare against the protocol doc's 0.25 contract instead of the SDK. */
  contract?: Contract;
  /** A canary: our side is deliberately different, and the harness must report these kinds. */
  canary?: Difference["kind"][];
}

// ---- seeded ids --------------------------------------------------------------

const seed = createState();
const RUN = FAKE_IDS.run; // `<uuid>:train:1`, a colon in a path segment
const CKPT = FAKE_IDS.checkpointPath; // weights/000010, private
const SAMPLER_CKPT = FAKE_IDS.publicCheckpointPath; // sampler_weights/000010, public
const EXTERNAL = FAKE_IDS.externalCheckpointPath; // external_weights/000010
const RUN_PATH = `/api/v1/training_runs/${RUN}`;
const fullFineTune = seed.listRuns(false).find((r) => !r.is_lora && r.checkpoints.length > 0)!;
const FULL_FT_CKPT = fullFineTune.checkpoints[0]!.tinker_path;
const sessions = seed.listSessions(false).length;

// ---- step builders -----------------------------------------------------------

const rest = (method: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}) => ({
  call: `rest.${method}`,
  args,
  kwargs,
});
const admin = (method: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}) => ({
  call: `admin.${method}`,
  args,
  kwargs,
});
const step = (py: PyStep, ts: (c: Clients) => unknown): Step => ({ py, ts });
const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
};
const fault = (f: Parameters<FakeTinker["inject"]>[0]) => (fake: FakeTinker) => fake.inject(f);

const getRun = step(rest("get_training_run", [RUN]), (c) => c.rest.getTrainingRun(RUN));

// ---- scenarios ---------------------------------------------------------------

const reads: Scenario[] = [
  {
    name: "get_server_capabilities",
    steps: [step(rest("get_server_capabilities"), (c) => c.rest.getServerCapabilities())],
  },
  { name: "get_training_run (id with colons)", steps: [getRun] },
  {
    name: "get_training_run accessible (foreign run)",
    steps: [
      step(
        rest("get_training_run", [FAKE_IDS.foreignRun], { access_scope: "accessible" }),
        (c) => c.rest.getTrainingRun(FAKE_IDS.foreignRun, { accessScope: "accessible" }),
      ),
    ],
  },
  {
    name: "get_training_run_by_tinker_path (sampler, external)",
    steps: [
      step(
        rest("get_training_run_by_tinker_path", [SAMPLER_CKPT]),
        (c) => c.rest.getTrainingRunByTinkerPath(SAMPLER_CKPT),
      ),
      step(
        rest("get_training_run_by_tinker_path", [EXTERNAL], { access_scope: "accessible" }),
        (c) => c.rest.getTrainingRunByTinkerPath(EXTERNAL, { accessScope: "accessible" }),
      ),
    ],
  },
  {
    name: "get_weights_info_by_tinker_path (LoRA, full fine-tune, external)",
    steps: [CKPT, FULL_FT_CKPT, EXTERNAL].map((path) =>
      step(
        rest("get_weights_info_by_tinker_path", [path]),
        (c) => c.rest.getWeightsInfoByTinkerPath(path),
      )
    ),
  },
  {
    name: "list_training_runs (defaults)",
    steps: [step(rest("list_training_runs"), (c) => c.rest.listTrainingRuns())],
  },
  {
    name: "list_training_runs (every parameter)",
    steps: [
      step(
        rest("list_training_runs", [], {
          limit: 5,
          offset: 1,
          access_scope: "accessible",
          project_id: "proj-alpha",
        }),
        (c) =>
          c.rest.listTrainingRuns({
            limit: 5,
            offset: 1,
            accessScope: "accessible",
            projectId: "proj-alpha",
          }),
      ),
    ],
  },
  {
    name: "list_checkpoints (training, sampler, external)",
    steps: [step(rest("list_checkpoints", [RUN]), (c) => c.rest.listCheckpoints(RUN))],
  },
  {
    name: "list_checkpoints (250 checkpoints)",
    steps: [
      step(
        rest("list_checkpoints", [FAKE_IDS.bigRun]),
        (c) => c.rest.listCheckpoints(FAKE_IDS.bigRun),
      ),
    ],
  },
  {
    name: "list_user_checkpoints (defaults)",
    steps: [step(rest("list_user_checkpoints"), (c) => c.rest.listUserCheckpoints())],
  },
  {
    name: "get_external_weights_urls",
    steps: [
      step(
        rest("get_external_weights_urls", [EXTERNAL]),
        (c) => c.rest.getExternalWeightsUrls(EXTERNAL),
      ),
    ],
  },
  {
    name: "get_session / get_session accessible (foreign)",
    steps: [
      step(rest("get_session", [FAKE_IDS.sessionId]), (c) => c.rest.getSession(FAKE_IDS.sessionId)),
      step(
        rest("get_session", [FAKE_IDS.foreignSessionId], { access_scope: "accessible" }),
        (c) => c.rest.getSession(FAKE_IDS.foreignSessionId, { accessScope: "accessible" }),
      ),
    ],
  },
  {
    name: "list_sessions (defaults, accessible)",
    steps: [
      step(rest("list_sessions"), (c) => c.rest.listSessions()),
      step(
        rest("list_sessions", [], { limit: 3, offset: 2, access_scope: "accessible" }),
        (c) => c.rest.listSessions({ limit: 3, offset: 2, accessScope: "accessible" }),
      ),
    ],
  },
  {
    name: "get_sampler (id with colons)",
    steps: [
      step(rest("get_sampler", [FAKE_IDS.samplerId]), (c) => c.rest.getSampler(FAKE_IDS.samplerId)),
    ],
  },
  {
    name: "export_session_trace (pending, then ready)",
    fake: { tracePendingCount: 1 },
    client: { tracePollIntervalMs: 20 },
    steps: [
      step(
        rest("export_session_trace", [FAKE_IDS.sessionId]),
        (c) => c.rest.exportSessionTrace(FAKE_IDS.sessionId),
      ),
    ],
  },
  {
    name: "export_session_trace (failed)",
    fake: { tracePendingCount: 0 },
    steps: [
      step(
        rest("export_session_trace", [FAKE_IDS.failingTraceSessionId]),
        (c) => c.rest.exportSessionTrace(FAKE_IDS.failingTraceSessionId),
      ),
    ],
  },
  {
    name: "search_sessions (defaults, filters, next page)",
    steps: [
      step(
        rest("search_sessions", [{ $model: "SessionSearchRequest", fields: { limit: 3 } }]),
        (c) => c.rest.searchSessions({ limit: 3 }),
      ),
      step(
        rest("search_sessions", [{
          $model: "SessionSearchRequest",
          fields: {
            project_ids: ["proj-alpha"],
            user_metadata: { team: "post-training" },
            display_name: "nightly",
            owner: { type: "accessible" },
            statuses: [{ type: "client_finished", reasons: ["success"] }],
            limit: 10,
          },
        }]),
        (c) =>
          c.rest.searchSessions({
            project_ids: ["proj-alpha"],
            user_metadata: { team: "post-training" },
            display_name: "nightly",
            owner: { type: "accessible" },
            statuses: [{ type: "client_finished", reasons: ["success"] }],
            limit: 10,
          }),
      ),
      step(
        rest("search_sessions", [{
          $model: "SessionSearchRequest",
          fields: { limit: 2, cursor: cursorAfter(2) },
        }]),
        (c) => c.rest.searchSessions({ limit: 2, cursor: cursorAfter(2) }),
      ),
    ],
  },
  {
    name: "whoami (JWT auth on)",
    fake: { jwtAuth: true },
    steps: [step(rest("whoami"), (c) => c.rest.whoami())],
  },
  {
    name: "whoami (JWT auth off: an error)",
    steps: [step(rest("whoami"), (c) => c.rest.whoami())],
  },
];

/** The cursor the fake's session search gives after `n` sessions (as the server sends it). */
function cursorAfter(n: number): { last_created_at: string; last_session_id: string } {
  const session = seed.listSessions(false)[n - 1]!;
  return { last_created_at: session.created_at, last_session_id: session.session_id };
}

const adminScenarios: Scenario[] = [
  {
    name: "AdminClient.get_audit_log (defaults)",
    steps: [step(admin("get_audit_log"), (c) => c.admin.getAuditLog())],
  },
  {
    name: "AdminClient.get_audit_log (checkpoints, day)",
    steps: [
      step(
        admin("get_audit_log", ["checkpoints", { $date: "2026-09-13" }]),
        (c) => c.admin.getAuditLog({ eventType: "checkpoints", day: "2026-09-13" }),
      ),
      step(
        admin("get_audit_log", ["projects"], { day: { $date: "2026-09-14" } }),
        (c) =>
          c.admin.getAuditLog({ eventType: "projects", day: new Date("2026-09-14T12:00:00Z") }),
      ),
    ],
  },
  {
    name: "AdminClient.get_audit_log (302 to storage)",
    fake: { auditRedirect: true },
    tags: ["audit-redirect"],
    steps: [
      step(
        admin("get_audit_log", [], { day: { $date: "2026-09-13" } }),
        (c) => c.admin.getAuditLog({ day: "2026-09-13" }),
      ),
    ],
  },
  {
    name: "AdminClient.get_billing_usage (strings, datetime)",
    steps: [
      step(
        admin("get_billing_usage", ["2026-07-13T00:00:00Z", "2026-07-14T00:00:00+00:00"]),
        (c) => c.admin.getBillingUsage("2026-07-13T00:00:00Z", "2026-07-14T00:00:00+00:00"),
      ),
      step(
        admin("get_billing_usage", [
          { $datetime: "2026-07-13T06:00:00+00:00" },
          { $datetime: "2026-07-13T08:00:00+00:00" },
        ]),
        (c) =>
          c.admin.getBillingUsage(
            new Date("2026-07-13T06:00:00Z"),
            new Date("2026-07-13T08:00:00Z"),
          ),
      ),
    ],
  },
  {
    name: "AdminClient.get_billing_usage (offset kept vs UTC)",
    tags: ["utc"],
    steps: [
      step(
        admin("get_billing_usage", ["2026-07-13T10:00:00+05:00", "2026-07-13T12:00:00+05:00"]),
        (c) => c.admin.getBillingUsage("2026-07-13T10:00:00+05:00", "2026-07-13T12:00:00+05:00"),
      ),
    ],
  },
  {
    name: "AdminClient.get_current_checkpoint_storage_usage (all, project)",
    steps: [
      step(
        admin("get_current_checkpoint_storage_usage"),
        (c) => c.admin.getCurrentCheckpointStorageUsage(),
      ),
      step(
        admin("get_current_checkpoint_storage_usage", [], { project_id: "proj-alpha" }),
        (c) => c.admin.getCurrentCheckpointStorageUsage({ projectId: "proj-alpha" }),
      ),
    ],
  },
  {
    name: "RestClient admin shims (billing, storage, audit)",
    steps: [
      step(
        rest("get_billing_usage", ["2026-07-13T05:00:00Z", "2026-07-13T06:00:00Z"]),
        (c) => c.rest.getBillingUsage("2026-07-13T05:00:00Z", "2026-07-13T06:00:00Z"),
      ),
      step(
        rest("get_current_checkpoint_storage_usage", [], { project_id: "proj-beta" }),
        (c) => c.rest.getCurrentCheckpointStorageUsage({ projectId: "proj-beta" }),
      ),
      step(
        rest("get_audit_log", ["all", { $date: "2026-09-12" }]),
        (c) => c.rest.getAuditLog({ eventType: "all", day: "2026-09-12" }),
      ),
    ],
  },
];

const writes: Scenario[] = [
  {
    name: "publish then unpublish (training checkpoint)",
    steps: [
      step(
        rest("publish_checkpoint_from_tinker_path", [CKPT]),
        (c) => c.rest.publishCheckpointFromTinkerPath(CKPT),
      ),
      step(
        rest("unpublish_checkpoint_from_tinker_path", [CKPT]),
        (c) => c.rest.unpublishCheckpointFromTinkerPath(CKPT),
      ),
    ],
  },
  {
    name: "unpublish (public sampler checkpoint)",
    steps: [
      step(
        rest("unpublish_checkpoint_from_tinker_path", [SAMPLER_CKPT]),
        (c) => c.rest.unpublishCheckpointFromTinkerPath(SAMPLER_CKPT),
      ),
    ],
  },
  {
    name: "set_checkpoint_ttl set and removed",
    steps: [
      step(
        rest("set_checkpoint_ttl_from_tinker_path", [CKPT, 86400]),
        (c) => c.rest.setCheckpointTtlFromTinkerPath(CKPT, 86400),
      ),
      step(
        rest("set_checkpoint_ttl_from_tinker_path", [CKPT, null]),
        (c) => c.rest.setCheckpointTtlFromTinkerPath(CKPT, null),
      ),
      step(rest("list_checkpoints", [RUN]), (c) => c.rest.listCheckpoints(RUN)),
    ],
  },
  {
    name: "set_checkpoint_ttl (external checkpoint)",
    steps: [
      step(
        rest("set_checkpoint_ttl_from_tinker_path", [EXTERNAL, 3600]),
        (c) => c.rest.setCheckpointTtlFromTinkerPath(EXTERNAL, 3600),
      ),
    ],
  },
  {
    name: "delete_checkpoint (prefixed sampler id)",
    steps: [
      step(
        rest("delete_checkpoint", [RUN, "sampler_weights/000010"]),
        (c) => c.rest.deleteCheckpoint(RUN, "sampler_weights/000010"),
      ),
      step(rest("list_checkpoints", [RUN]), (c) => c.rest.listCheckpoints(RUN)),
    ],
  },
  {
    name: "delete_checkpoint_from_tinker_path (external)",
    steps: [
      step(
        rest("delete_checkpoint_from_tinker_path", [EXTERNAL]),
        (c) => c.rest.deleteCheckpointFromTinkerPath(EXTERNAL),
      ),
    ],
  },
  {
    name: "assign_session_project",
    steps: [
      step(
        rest("assign_session_project", [FAKE_IDS.sessionId, "proj-beta"]),
        (c) => c.rest.assignSessionProject(FAKE_IDS.sessionId, "proj-beta"),
      ),
    ],
  },
  {
    name: "copy_weights (project, ttl)",
    steps: [
      step(
        rest("copy_weights", [SAMPLER_CKPT, "proj-archive"], { ttl_seconds: 7200 }),
        (c) =>
          c.rest.copyWeights(SAMPLER_CKPT, {
            destinationProjectId: "proj-archive",
            ttlSeconds: 7200,
          }),
      ),
    ],
  },
  {
    name: "copy_weights (weights access token)",
    steps: [
      step(
        rest("copy_weights", [CKPT, "proj-b"], { weights_access_token: "tml-weights-token" }),
        (c) =>
          c.rest.copyWeights(CKPT, {
            destinationProjectId: "proj-b",
            weightsAccessToken: "tml-weights-token",
          }),
      ),
    ],
  },
];

/** A checkpoint name with every character ids may hold that needs thought in a URL. */
const ODD_NAME = "v1+b@é~(x)!*'$;=,ü";
const ODD_CKPT = `tinker://${RUN}/weights/${ODD_NAME}`;
const addOddCheckpoint = (fake: FakeTinker) => {
  const run = fake.state!.runs.get(RUN)!;
  run.checkpoints.push({
    ...run.checkpoints[0]!,
    checkpoint_id: `weights/${ODD_NAME}`,
    tinker_path: ODD_CKPT,
  });
};
const ODD_TEXT = "proj é/ß&x=1+2;ü #?";

const encoding: Scenario[] = [
  {
    name: "odd checkpoint name: publish, ttl, delete",
    prepare: addOddCheckpoint,
    steps: [
      step(
        rest("publish_checkpoint_from_tinker_path", [ODD_CKPT]),
        (c) => c.rest.publishCheckpointFromTinkerPath(ODD_CKPT),
      ),
      step(
        rest("set_checkpoint_ttl_from_tinker_path", [ODD_CKPT, 7200]),
        (c) => c.rest.setCheckpointTtlFromTinkerPath(ODD_CKPT, 7200),
      ),
      step(
        rest("delete_checkpoint", [RUN, `weights/${ODD_NAME}`]),
        (c) => c.rest.deleteCheckpoint(RUN, `weights/${ODD_NAME}`),
      ),
    ],
  },
  {
    name: "non-ASCII and reserved characters in query and body (two clients)",
    tags: ["two-clients"],
    steps: [
      step(
        rest("list_training_runs", [], { project_id: ODD_TEXT }),
        (c) => c.rest.listTrainingRuns({ projectId: ODD_TEXT }),
      ),
      step(
        rest("assign_session_project", [FAKE_IDS.sessionId, ODD_TEXT]),
        (c) => c.rest.assignSessionProject(FAKE_IDS.sessionId, ODD_TEXT),
      ),
      step(
        admin("get_current_checkpoint_storage_usage", [], { project_id: ODD_TEXT }),
        (c) => c.admin.getCurrentCheckpointStorageUsage({ projectId: ODD_TEXT }),
      ),
    ],
  },
];

const paging: Scenario[] = [
  {
    name: "list_training_runs, every page (limit 7)",
    steps: [
      step(
        { paginate: "rest.list_training_runs", kwargs: { limit: 7 }, items: "training_runs" },
        (c) => collect(c.rest.listTrainingRuns({ limit: 7 })),
      ),
    ],
  },
  {
    name: "list_training_runs, every page from offset 5 (accessible)",
    steps: [
      step(
        {
          paginate: "rest.list_training_runs",
          kwargs: { limit: 10, offset: 5, access_scope: "accessible" },
          items: "training_runs",
        },
        (c) =>
          collect(c.rest.listTrainingRuns({ limit: 10, offset: 5, accessScope: "accessible" })),
      ),
    ],
  },
  {
    name: "list_user_checkpoints, every page (limit 100)",
    steps: [
      step(
        { paginate: "rest.list_user_checkpoints", kwargs: { limit: 100 }, items: "checkpoints" },
        (c) => collect(c.rest.listUserCheckpoints({ limit: 100 })),
      ),
    ],
  },
  {
    name: `list_sessions, every page (limit 5 of ${sessions})`,
    steps: [
      step(
        { paginate: "rest.list_sessions", kwargs: { limit: 5 }, items: "sessions" },
        (c) => collect(c.rest.listSessions({ limit: 5 })),
      ),
    ],
  },
  {
    name: `list_sessions, every page (limit ${sessions / 3}: an empty last page)`,
    steps: [
      step(
        { paginate: "rest.list_sessions", kwargs: { limit: sessions / 3 }, items: "sessions" },
        (c) => collect(c.rest.listSessions({ limit: sessions / 3 })),
      ),
    ],
  },
];

/** A JWT the fake issued, used as the API key (the fake accepts its own JWTs). */
async function issuedJwt(fake: FakeTinker): Promise<string> {
  await fake.setOptions({ jwtAuth: true });
  const res = await fetch(`${fake.url}/api/v1/auth/token`, {
    method: "POST",
    headers: { "x-api-key": fake.apiKey, "content-type": "application/json" },
    body: "{}",
  });
  const { jwt } = await res.json() as { jwt: string };
  await fake.setOptions({ jwtAuth: false });
  await fake.clearLog();
  return jwt;
}

const clientSide: Scenario[] = [
  {
    name: "a JWT as the API key (calls, whoami)",
    apiKey: issuedJwt,
    steps: [getRun, step(rest("whoami"), (c) => c.rest.whoami())],
  },
  {
    name: "list_checkpoints with an empty id (no request)",
    steps: [step(rest("list_checkpoints", [""]), (c) => c.rest.listCheckpoints(""))],
  },
  {
    name: "get_training_run with an empty id",
    tags: ["validation"],
    steps: [step(rest("get_training_run", [""]), (c) => c.rest.getTrainingRun(""))],
  },
  {
    name: "search_sessions with limit 500 (no request)",
    steps: [
      step(
        rest("search_sessions", [{ $model: "SessionSearchRequest", fields: { limit: 500 } }]),
        (c) => c.rest.searchSessions({ limit: 500 }),
      ),
    ],
  },
  {
    name: "bad tinker path (no request)",
    steps: [
      step(
        rest("get_training_run_by_tinker_path", ["tinker://run-1/foo/0001"]),
        (c) => c.rest.getTrainingRunByTinkerPath("tinker://run-1/foo/0001"),
      ),
    ],
  },
  {
    name: "get_external_weights_urls of a weights path (no request)",
    steps: [
      step(rest("get_external_weights_urls", [CKPT]), (c) => c.rest.getExternalWeightsUrls(CKPT)),
    ],
  },
  {
    name: "copy_weights without a project (no request)",
    steps: [step(rest("copy_weights", [CKPT]), (c) => c.rest.copyWeights(CKPT))],
  },
];

const jsonDetail = (detail: unknown) => ({ detail });

const errors: Scenario[] = [
  {
    name: "JWT bootstrap on: calls carry the JWT",
    fake: { jwtAuth: true },
    steps: [getRun, step(rest("list_checkpoints", [RUN]), (c) => c.rest.listCheckpoints(RUN))],
  },
  {
    name: "wrong API key: 401 at bootstrap",
    apiKey: "tml-wrong-key",
    steps: [getRun],
  },
  {
    name: "400 Bad Request",
    prepare: fault({ path: RUN_PATH, status: 400, body: jsonDetail("Invalid training run id") }),
    steps: [getRun],
  },
  {
    name: "401 Unauthorized on a call",
    prepare: fault({ path: RUN_PATH, status: 401, body: jsonDetail("Invalid JWT") }),
    steps: [getRun],
  },
  {
    name: "401 invalid_token: one JWT re-exchange and replay",
    fake: { jwtAuth: true },
    prepare: fault({
      path: RUN_PATH,
      status: 401,
      headers: { "www-authenticate": 'Bearer error="invalid_token"' },
      body: jsonDetail("Invalid JWT"),
    }),
    steps: [getRun],
  },
  {
    name: "402 Payment Required (billing)",
    fake: { clientConfig: { billing_exception_max_pause_duration_sec: 0 } },
    tags: ["402"],
    prepare: fault({
      path: RUN_PATH,
      status: 402,
      body: jsonDetail("billing not set up"),
      times: 5,
    }),
    steps: [getRun],
  },
  {
    name: "403 Forbidden",
    prepare: fault({ path: `${RUN_PATH}/checkpoints`, status: 403, body: jsonDetail("No access") }),
    steps: [step(rest("list_checkpoints", [RUN]), (c) => c.rest.listCheckpoints(RUN))],
  },
  {
    name: "404 Not Found (real route)",
    steps: [
      step(
        rest("get_training_run", ["nope:train:0"]),
        (c) => c.rest.getTrainingRun("nope:train:0"),
      ),
      step(
        rest("get_external_weights_urls", [`tinker://${RUN}/external_weights/none`]),
        (c) => c.rest.getExternalWeightsUrls(`tinker://${RUN}/external_weights/none`),
      ),
    ],
  },
  {
    name: "409 once on publish, then success",
    tags: ["409"],
    prepare: fault({
      path: `/api/v1/training_runs/${RUN}/checkpoints/weights/000010/publish`,
      status: 409,
      body: jsonDetail("Checkpoint is already public"),
    }),
    steps: [
      step(
        rest("publish_checkpoint_from_tinker_path", [CKPT]),
        (c) => c.rest.publishCheckpointFromTinkerPath(CKPT),
      ),
    ],
  },
  {
    name: "422 with FastAPI's list detail",
    prepare: fault({
      path: "/api/v1/training_runs",
      status: 422,
      body: jsonDetail([{
        type: "greater_than_equal",
        loc: ["query", "limit"],
        msg: "Input should be greater than or equal to 1",
        input: "0",
        ctx: { ge: 1 },
      }]),
    }),
    steps: [step(rest("list_training_runs"), (c) => c.rest.listTrainingRuns())],
  },
  {
    name: "429 with retry-after twice, then success",
    prepare: fault({
      path: RUN_PATH,
      status: 429,
      headers: { "retry-after": "0.1" },
      body: jsonDetail("Too many requests"),
      times: 2,
    }),
    steps: [getRun],
  },
  {
    name: "429 seven times: more than our 5 retries",
    tags: ["max-retries"],
    prepare: fault({
      path: RUN_PATH,
      status: 429,
      headers: { "retry-after": "0.05" },
      body: jsonDetail("Too many requests"),
      times: 7,
    }),
    steps: [getRun],
  },
  {
    name: "x-should-retry: true on a 400, then success",
    prepare: fault({
      path: RUN_PATH,
      status: 400,
      headers: { "x-should-retry": "true", "retry-after": "0.05" },
      body: jsonDetail("Try again"),
    }),
    steps: [getRun],
  },
  {
    name: "x-should-retry: false on a 500, then success",
    tags: ["outer-retries"],
    prepare: fault({
      path: RUN_PATH,
      status: 500,
      headers: { "x-should-retry": "false" },
      body: jsonDetail("Internal Server Error"),
    }),
    steps: [getRun],
  },
  {
    name: "500 once on a GET, then success",
    prepare: fault({ path: RUN_PATH, status: 500, body: jsonDetail("Internal Server Error") }),
    steps: [getRun],
  },
  {
    name: "500 once on a POST publish",
    tags: ["write-5xx"],
    prepare: fault({
      path: `/api/v1/training_runs/${RUN}/checkpoints/weights/000010/publish`,
      status: 500,
      body: jsonDetail("Internal Server Error"),
    }),
    steps: [
      step(
        rest("publish_checkpoint_from_tinker_path", [CKPT]),
        (c) => c.rest.publishCheckpointFromTinkerPath(CKPT),
      ),
    ],
  },
  {
    name: "503 once on a PUT ttl, then success",
    prepare: fault({
      path: `/api/v1/training_runs/${RUN}/checkpoints/weights/000010/ttl`,
      status: 503,
      body: jsonDetail("Service Unavailable"),
    }),
    steps: [
      step(
        rest("set_checkpoint_ttl_from_tinker_path", [CKPT, 3600]),
        (c) => c.rest.setCheckpointTtlFromTinkerPath(CKPT, 3600),
      ),
    ],
  },
  {
    name: "404 with a text body, 404 with an empty body",
    prepare: async (fake) => {
      await fake.inject({ path: RUN_PATH, status: 404, body: "nope" });
      await fake.inject({ path: RUN_PATH, status: 404, body: "" });
    },
    steps: [getRun, getRun],
  },
  {
    name: "copy_weights: 503 once, the retry reuses the bare-uuid key",
    prepare: fault({ path: "/api/v1/copy_weights", status: 503, body: jsonDetail("busy") }),
    steps: [
      step(
        rest("copy_weights", [CKPT, "proj-b"]),
        (c) => c.rest.copyWeights(CKPT, { destinationProjectId: "proj-b" }),
      ),
    ],
  },
  {
    name: "trace export with an unknown status",
    prepare: fault({
      path: `/api/v1/sessions/${FAKE_IDS.sessionId}/trace_export`,
      status: 200,
      body: { status: "exploded", url: null, error: null },
    }),
    steps: [
      step(
        rest("export_session_trace", [FAKE_IDS.sessionId]),
        (c) => c.rest.exportSessionTrace(FAKE_IDS.sessionId),
      ),
    ],
  },
  {
    name: "200 with a body that breaks the schema",
    prepare: fault({ path: RUN_PATH, status: 200, body: { training_run_id: RUN } }),
    steps: [getRun],
  },
];

const ARCHIVE = `/api/v1/training_runs/${RUN}/checkpoints/weights/000010/archive`;
const archiveRequest: ExpectedRequest = {
  method: "GET",
  rawPath: ARCHIVE,
  headers: {
    accept: "application/json",
    "content-type": null,
    "x-idempotency-key": null,
    "x-api-key": "<api-key>",
  },
};
const archiveResult = () => ({
  url: `<storage>/signed/${RUN.replaceAll(":", "%3A")}/weights/000010.tar?X-Goog-Algorithm=` +
    "GOOG4-RSA-SHA256&X-Goog-Credential=*&X-Goog-Date=*&X-Goog-Expires=900&" +
    "X-Goog-SignedHeaders=host&X-Goog-Signature=*",
  expires: new Date(Date.now() + 900_000).toISOString(), // Expires, or the SDK's now + 15 min
});
const archiveStep = step(
  { call: "rest.get_checkpoint_archive_url_from_tinker_path", args: [CKPT] },
  (c) => c.rest.getCheckpointArchiveUrlFromTinkerPath(CKPT),
);
const archive = (name: string, fake: FakeTinkerOptions, requests: number): Scenario => ({
  name,
  fake,
  client: { archivePollIntervalMs: 20 },
  steps: [archiveStep],
  contract: {
    deliberate: ARCHIVE_CONTRACT.id,
    requests: Array.from({ length: requests }, () => archiveRequest),
    get result() {
      return archiveResult();
    },
  },
});

const archives: Scenario[] = [
  archive("archive: 302 with Expires", { archiveMode: "redirect" }, 1),
  archive("archive: 302 without Expires", { archiveMode: "redirect-no-expires" }, 1),
  archive("archive: 200 JSON", { archiveMode: "json" }, 1),
  archive("archive: 503, 503, then 302", { archiveMode: "not-ready", archiveNotReadyCount: 2 }, 3),
];

/** Canaries: our side differs on purpose, so the harness must see it (else it is broken). */
const canaries: Scenario[] = [
  {
    name: "canary: another limit (must be detected)",
    canary: ["path", "result"],
    steps: [
      step(
        rest("list_training_runs", [], { limit: 5 }),
        (c) => c.rest.listTrainingRuns({ limit: 6 }),
      ),
    ],
  },
  {
    name: "canary: an extra header (must be detected)",
    canary: ["header"],
    client: { defaultHeaders: { "X-Extra": "1" } },
    steps: [getRun],
  },
  {
    name: "canary: another checkpoint (must be detected)",
    canary: ["path", "result"],
    steps: [
      step(
        rest("get_training_run_by_tinker_path", [CKPT]),
        (c) => c.rest.getTrainingRunByTinkerPath(CKPT.replace(RUN, FAKE_IDS.bigRun)),
      ),
    ],
  },
];

/** Every scenario, in the order the table shows them. */
export const SCENARIOS: readonly Scenario[] = [
  ...reads,
  ...adminScenarios,
  ...writes,
  ...encoding,
  ...paging,
  ...clientSide,
  ...errors,
  ...archives,
  ...SESSION_SCENARIOS,
  ...TRAINING_SCENARIOS,
  ...SAMPLING_SCENARIOS,
  ...canaries,
];
