/**
 * A fake Tinker service for tests, demos and benchmarks: an in-memory,
 * deterministic stand-in for the hosted REST API, built on `node:http` so it
 * runs unchanged under Deno, Bun and Node.
 *
 * - Every RestClient route with the hosted wire shapes, auth (`X-API-Key`,
 *   optional JWT exchange), FastAPI-style errors and strict raw-path routing.
 * - A second origin serving signed storage URLs (checkpoint tars, traces,
 *   redirected audit logs) that rejects forwarded API keys.
 * - A request log, queued faults (status, delay, dropped or truncated
 *   connections) and `/_fake/` admin endpoints for out-of-process control
 *   ({@linkcode spawnFakeTinker}).
 *
 * @example Start, call, inspect, inject a fault
 * ```ts
 * import { FAKE_IDS, startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker();
 * const headers = { "X-API-Key": fake.apiKey };
 * const run = await fetch(`${fake.url}/api/v1/training_runs/${FAKE_IDS.run}`, { headers });
 * console.log(run.status, fake.log[0]?.path);
 *
 * await fake.inject({ path: /^\/api\/v1\/checkpoints$/, status: 503, times: 2 });
 * const res = await fetch(`${fake.url}/api/v1/checkpoints`, { headers });
 * console.log(res.status); // 503
 * ```
 *
 * @module
 */
export { DEFAULT_BEHAVIOUR, type FaultJson, startFakeTinker } from "./_server.ts";
export { spawnFakeTinker } from "./spawn.ts";
export {
  FAKE_IDS,
  type FakeAuditEntry,
  type FakeBillingEvent,
  type FakeCheckpoint,
  type FakeFuture,
  type FakeIds,
  type FakeLiveSession,
  type FakeModel,
  type FakeRun,
  type FakeSampler,
  type FakeSeedOptions,
  type FakeSession,
  type FakeState,
} from "./_state.ts";
export type {
  ArchiveMode,
  FakeBehaviour,
  FakeTinker,
  FakeTinkerOptions,
  Fault,
  FutureFailure,
  RecordedRequest,
} from "./_types.ts";
