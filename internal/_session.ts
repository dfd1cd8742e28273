// A ServiceClient's session, as SDK 0.38 keeps one: created on first need
// (`POST /api/v1/create_session`), kept alive by heartbeats
// (`POST /api/v1/session_heartbeat`, every 10 s, one attempt of at most
// 10 s each) on a timer that never keeps a process alive, and ended with
// `POST /api/v1/sessions/{id}/finish`. Every request is steps through the
// engine. A heartbeat answered 404 or 410 means the session is over on the
// server: the next call fails with SessionExpiredError instead of hanging.

import type { Calls, Operation } from "./_engine.ts";
import { ApiError, SessionExpiredError, TinkerError } from "../errors.ts";
import {
  type CallSettings,
  encodeSegment,
  type Shared,
  type Steps,
  unrefTimeout,
} from "./_request.ts";
import { SDK_COMPAT_VERSION } from "./_version.ts";
import { CREATE_SESSION_RESPONSE } from "./_schema_sessions.ts";
import type { SessionStatus } from "../session_types.ts";

/** What the session is created with. */
export interface SessionConfig {
  tags: string[];
  userMetadata: Record<string, string> | undefined;
  projectId: string | undefined;
  displayName: string | undefined;
  heartbeatIntervalMs: number;
}

const HEARTBEAT_TIMEOUT_MS = 10_000;

/** One session: its id once created, its heartbeat, its end. */
export class Session {
  #config: SessionConfig;
  #execute: (op: Operation) => Promise<unknown>;
  #id: string | undefined;
  #creating: Shared = {};
  #dead: SessionExpiredError | undefined;
  #closed = false;
  #failed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastBeat = 0;
  #beating = false;
  #modelSeq = 0;
  #samplingSeq = 0;

  /**
   * @param config What the session is created with.
   * @param execute Runs a heartbeat's steps asynchronously (the engine's `execute`).
   */
  constructor(
    config: SessionConfig,
    execute: (op: Operation) => Promise<unknown>,
  ) {
    this.#config = config;
    this.#execute = execute;
  }

  /** The session id, once created. */
  get id(): string | undefined {
    return this.#id;
  }

  /** Whether a call of this session failed (what `using` reports when it closes it). */
  get failed(): boolean {
    return this.#failed;
  }

  /** Whether `finish` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the session when none was created or is being created; true if it did. */
  closeIfUnused(): boolean {
    if (this.#id !== undefined || this.#creating.pending !== undefined) return false;
    this.#closed = true;
    return true;
  }

  /** Remembers that a call of this session failed. */
  markFailed(): void {
    this.#failed = true;
  }

  /** The next model sequence id of this session (0, 1, …), as the SDK counts them. */
  nextModelSeqId(): number {
    this.check();
    return this.#modelSeq++;
  }

  /**
   * Uses the existing session `id` (a sampler handle's, made in another
   * process): nothing is created, and no heartbeats are sent from here (the
   * session's owner keeps it alive and ends it).
   */
  attach(id: string): void {
    this.#id = id;
    this.#lastBeat = Infinity; // Never due: the owner beats.
  }

  /** The next sampling session sequence id of this session (0, 1, …), as the SDK counts them. */
  nextSamplingSessionSeqId(): number {
    this.check();
    return this.#samplingSeq++;
  }

  /** Throws when the session can take no more calls. */
  check(): void {
    if (this.#closed) throw new TinkerError("This ServiceClient is closed");
    if (this.#dead) throw this.#dead;
  }

  /** The session id, creating the session first if needed (one creation for concurrent calls). */
  *ensure(calls: Calls): Steps<string> {
    this.check();
    if (this.#id !== undefined) return this.#id;
    const run = () => this.#create(calls);
    return (yield { t: "share", slot: this.#creating, run }) as string;
  }

  *#create(calls: Calls): Steps<string> {
    if (this.#id !== undefined) return this.#id;
    const { tags, userMetadata, projectId, displayName } = this.#config;
    const body = {
      tags,
      user_metadata: userMetadata ?? {},
      sdk_version: SDK_COMPAT_VERSION,
      ...(projectId !== undefined && { project_id: projectId }),
      ...(displayName !== undefined && { display_name: displayName }),
      type: "create_session",
    };
    const created = (yield* calls.json(
      { method: "POST", path: "/api/v1/create_session", body, retry: "unsent" },
      CREATE_SESSION_RESPONSE,
    )) as {
      session_id: string;
      info_message?: string | null;
      warning_message?: string | null;
      error_message?: string | null;
    };
    if (created.info_message) calls.log(`Session: ${created.info_message}`);
    // The server's words for the user, as the SDK logs them (control characters made inert).
    if (created.warning_message) console.warn(`Tinker: ${inert(created.warning_message)}`);
    if (created.error_message) console.error(`Tinker: ${inert(created.error_message)}`);
    this.#id = created.session_id;
    this.#lastBeat = Date.now();
    if (!this.#closed) this.#schedule();
    return created.session_id;
  }

  /** A heartbeat when one is due (long blocking waits send them here: no timer runs then). */
  *beatIfDue(calls: Calls): Steps<void> {
    if (this.#due()) yield* this.#beat(calls);
    this.check();
  }

  #due(): boolean {
    return this.#id !== undefined && !this.#closed && this.#dead === undefined && !this.#beating &&
      Date.now() - this.#lastBeat >= this.#config.heartbeatIntervalMs;
  }

  /** The next heartbeat, on a timer that never keeps the process alive. */
  #schedule(): void {
    if (this.#timer !== undefined || this.#closed || this.#dead) return;
    const interval = this.#config.heartbeatIntervalMs;
    // While a heartbeat is under way elsewhere (a poll's), look again an interval later.
    const wait = this.#beating ? interval : Math.max(0, this.#lastBeat + interval - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#due()) return this.#schedule();
      this.#execute({ kind: "steps", what: "session heartbeat", run: (calls) => this.#beat(calls) })
        .catch(() => {}) // A heartbeat's failure is recorded by #beat.
        .finally(() => this.#schedule());
    }, wait);
    unrefTimeout(this.#timer);
  }

  /** One heartbeat: one attempt; 404 or 410 ends the session for good. */
  *#beat(calls: Calls): Steps<void> {
    const id = this.#id!;
    this.#beating = true;
    try {
      yield* calls.send(
        {
          method: "POST",
          path: "/api/v1/session_heartbeat",
          body: { session_id: id, type: "session_heartbeat" },
          retry: "safe",
          maxRetries: 0,
        },
        { timeoutMs: HEARTBEAT_TIMEOUT_MS },
      );
      this.#lastBeat = Date.now();
    } catch (error) {
      if (error instanceof ApiError && (error.status === 404 || error.status === 410)) {
        this.#dead = new SessionExpiredError(
          id,
          `Session ${id} is over on the server (its heartbeat was answered ${error.status}: ${
            error.status === 404 ? "expired or unknown" : "finished"
          }); create a new ServiceClient`,
        );
        this.#stop();
      } else {
        const since = Math.round((Date.now() - this.#lastBeat) / 1000);
        calls.log(`Session ${id}: heartbeat failed (last success ${since} s ago): ${error}`);
      }
    } finally {
      this.#beating = false;
    }
  }

  #stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Ends the session: no more heartbeats or calls, then
   * `POST /api/v1/sessions/{id}/finish` when the session was created (the
   * server keeps the first reason it is given, so a resend changes nothing).
   */
  *finish(
    calls: Calls,
    status: SessionStatus,
    detail: string | undefined,
    call?: CallSettings,
  ): Steps<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop();
    if (this.#id === undefined && this.#creating.pending !== undefined) {
      try { // A creation in flight: finish what it creates.
        yield { t: "share", slot: this.#creating, run: () => this.#create(calls) };
      } catch {
        // Not created: nothing to finish.
      }
    }
    const id = this.#id;
    if (id === undefined) return;
    try {
      yield* calls.send({
        method: "POST",
        path: `/api/v1/sessions/${encodeSegment(id)}/finish`,
        body: { reason: { type: status }, detail: detail ?? null },
        retry: "safe",
      }, call); // The caller's signal and timeout.
    } catch (error) {
      // A session the server already dropped (its heartbeat said so) is over anyway.
      const gone = error instanceof ApiError && (error.status === 404 || error.status === 410);
      if (!(gone && this.#dead)) throw error;
    }
  }
}

/** `text` with control characters shown as `?` (server text on a terminal). */
function inert(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}
