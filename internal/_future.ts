// Futures: Promises that also answer synchronously through `.result()`, and
// page futures that iterate every item across pages.

import { TinkerError } from "../errors.ts";
import type { Operation } from "./_engine.ts";
import type { CallSettings } from "./_request.ts";
import { type CallSite, captureCaller, withCaller } from "./_caller.ts";

/**
 * The value of a client call: a real `Promise` (await it) that can also
 * block until the value is there with `.result()`.
 *
 * @typeParam T The resolved value.
 */
export interface TinkerFuture<T> extends Promise<T> {
  /**
   * Blocks the calling thread until the value is there and returns it
   * (Python's `future.result(timeout)`, with the timeout in milliseconds).
   * Each HTTP exchange goes to a worker while the caller waits in `Atomics.wait`.
   *
   * Where it blocks: scripts and CLIs in Deno and Bun (any thread that may
   * wait), against a server in another process or on another host.
   *
   * Where it throws at once, before sending (a `SyncUnavailableError`; the
   * future stays usable with `await`), because blocking would be wrong or
   * could never end:
   * - the client was created with `{ blocking: false }` (server code: a
   *   blocked `Deno.serve` handler or edge function stalls every request);
   * - the base URL is served on this very thread (`startFakeTinker()`): the
   *   server could not answer while its thread waits — use `spawnFakeTinker()`;
   * - the runtime cannot block (no `Worker` or `SharedArrayBuffer`, a
   *   browser's main thread), or the client has a custom `fetch` (functions
   *   cannot cross into the worker).
   *
   * It also throws a `TinkerError` at once when the call is already running
   * asynchronously (it was awaited): await it instead.
   *
   * @param timeoutMs Give up after this many milliseconds (`ApiTimeoutError`).
   * @returns The value.
   * @throws {SyncUnavailableError} When blocking is off or impossible here (see above).
   * @throws {ApiError} The call's own failure, as `await` would reject with it.
   */
  result(timeoutMs?: number): T;
}

/**
 * A future of one page that is also an `AsyncIterable` over every item from
 * the page's offset to the end, fetching pages as it goes.
 *
 * @typeParam Page The page type (e.g. `TrainingRunsResponse`).
 * @typeParam Item The item type (e.g. `TrainingRun`).
 */
export interface PageFuture<Page, Item> extends TinkerFuture<Page>, AsyncIterable<Item> {
  /** Every page from this one to the end. */
  pages(): AsyncIterable<Page>;
  /** Every item, synchronously (each page through `.result()`). */
  iterSync(): Iterable<Item>;
}

/** How a future runs its operation: on this thread, or blocking through the worker. */
export interface Runner {
  execute(op: Operation, call: CallSettings): Promise<unknown>;
  /** Throws before sending anything when blocking is impossible here. */
  executeSync(op: Operation, call: CallSettings, timeoutMs: number | undefined): unknown;
}

/**
 * Thrown by `.result()` at once, before anything is sent, when blocking is off
 * (`{ blocking: false }`) or impossible here (an in-process server, no
 * `Worker`, a custom `fetch`, a browser's main thread); the message says why.
 * The future stays usable with `await`.
 *
 * @example Refusing to block in server code
 * ```ts
 * import { RestClient, SyncUnavailableError } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * const rest = new RestClient({ apiKey: "tml-example", blocking: false });
 * assert.throws(() => rest.whoami().result(), SyncUnavailableError);
 * ```
 */
export class SyncUnavailableError extends TinkerError {
  /** The class name, kept through minification. */
  override name: string = "SyncUnavailableError";
}

type State = "idle" | "refused" | "async" | "sync" | "settled";

/** The one future implementation. */
export class Future<T> extends Promise<T> implements TinkerFuture<T> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  /** The plain-data description of the call (what `execute` and `.result()` run). */
  readonly operation: Operation;
  #runner: Runner;
  #call: CallSettings;
  #state: State = "idle";
  #outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;
  /** Where the call was made: the stack of an error that reaches `await` (dropped once settled). */
  #site: CallSite | undefined = captureCaller();

  constructor(operation: Operation, runner: Runner, call: CallSettings) {
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    super((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#resolve = resolve;
    this.#reject = reject;
    this.operation = operation;
    this.#runner = runner;
    this.#call = call;
    // Like any Promise, the call starts by itself; `.result()` called before
    // this microtask runs takes it over instead.
    queueMicrotask(() => {
      if (this.#state === "idle") this.#start();
    });
  }

  /** True once the call runs (asynchronously or blocking) or is settled. */
  get started(): boolean {
    return this.#state !== "idle" && this.#state !== "refused";
  }

  override then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    if (this.#state === "idle" || this.#state === "refused") this.#start();
    return super.then(onFulfilled, onRejected);
  }

  result(timeoutMs?: number): T {
    if (this.#outcome) return unwrap(this.#outcome);
    if (this.#state === "async") {
      throw new TinkerError(
        "Cannot block on this call with .result(): its request is already running asynchronously on this thread (blocking would deadlock); await it instead",
      );
    }
    if (this.#state === "sync") {
      throw new TinkerError("This call's .result() is already in progress");
    }
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
      throw new TinkerError(`Invalid timeoutMs: must be a number of at least 0, got ${timeoutMs}`);
    }
    this.#state = "sync";
    try {
      const value = this.#runner.executeSync(this.operation, this.#call, timeoutMs) as T;
      this.#settle({ ok: true, value });
      return value;
    } catch (error) {
      if (error instanceof SyncUnavailableError) {
        this.#state = "refused";
        throw error;
      }
      this.#settle({ ok: false, error });
      throw error;
    }
  }

  #start(): void {
    this.#state = "async";
    this.#runner.execute(this.operation, this.#call).then(
      (value) => this.#settle({ ok: true, value: value as T }),
      (error) => this.#settle({ ok: false, error: withCaller(error, this.#site) }),
    );
  }

  #settle(outcome: { ok: true; value: T } | { ok: false; error: unknown }): void {
    const sync = this.#state === "sync";
    this.#site = undefined; // A kept future does not keep its caller's frames alive.
    this.#outcome = outcome;
    this.#state = "settled";
    if (outcome.ok) this.#resolve(outcome.value);
    else {
      // The sync caller already received the error; do not report it twice.
      if (sync) super.then(undefined, () => {});
      this.#reject(outcome.error);
    }
  }
}

function unwrap<T>(outcome: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (outcome.ok) return outcome.value;
  throw outcome.error;
}

/** How a page future finds its items and the next page. */
export interface Pager<Page, Item> {
  items(page: Page): Item[];
  /** The total count from the page's cursor, when the server sends one. */
  total(page: Page): number | undefined;
  /** A future of the page at `offset`. */
  fetch(offset: number): Future<Page>;
  offset: number;
  limit: number;
  /** Iteration fails rather than fetch more pages than this. */
  maxPages: number;
  /** `GET /api/v1/...`, for error messages. */
  what: string;
}

/** Where an iteration is: the pages read so far and the last one's items as JSON. */
interface Walk {
  pages: number;
  offset: number;
  last: string | undefined;
  lastOffset: number;
}

/** A future of one page that also iterates every item across pages. */
export class PagedFuture<Page, Item> extends Future<Page> implements PageFuture<Page, Item> {
  #pager: Pager<Page, Item>;

  constructor(operation: Operation, runner: Runner, call: CallSettings, pager: Pager<Page, Item>) {
    super(operation, runner, call);
    this.#pager = pager;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Item> {
    for await (const page of this.pages()) yield* this.#pager.items(page);
  }

  async *pages(): AsyncIterable<Page> {
    let page: Page = await this;
    const walk = this.#walk();
    for (;;) {
      yield page;
      const next = this.#next(page, walk);
      if (next === undefined) return;
      page = this.#fresh(await this.#pager.fetch(next), walk);
    }
  }

  *iterSync(): Iterable<Item> {
    let page: Page = this.result();
    const walk = this.#walk();
    for (;;) {
      yield* this.#pager.items(page);
      const next = this.#next(page, walk);
      if (next === undefined) return;
      page = this.#fresh(this.#pager.fetch(next).result(), walk);
    }
  }

  #walk(): Walk {
    return { pages: 1, offset: this.#pager.offset, last: undefined, lastOffset: 0 };
  }

  /**
   * The offset of the page after `page` (read at `walk.offset`), or undefined
   * at the end. Throws rather than go past `maxPages`: a server that keeps
   * announcing more would keep a loop going forever.
   */
  #next(page: Page, walk: Walk): number | undefined {
    const { maxPages, what } = this.#pager;
    const items = this.#pager.items(page);
    const count = items.length;
    const total = this.#pager.total(page);
    const next = walk.offset + count;
    if (count === 0) return undefined;
    if (total !== undefined ? next >= total : count < this.#pager.limit) return undefined;
    if (walk.pages >= maxPages) {
      const announced = total === undefined ? "" : ` (it announces ${total} items)`;
      throw new TinkerError(
        `Stopped iterating ${what} after ${maxPages} pages (maxPages), at offset ${next}: the server kept announcing more${announced}; pass a larger maxPages to read further`,
      );
    }
    walk.last ??= JSON.stringify(items);
    walk.lastOffset = walk.offset;
    walk.pages++;
    walk.offset = next;
    return next;
  }

  /**
   * `page`, the one just read at `walk.offset`, unless its items are those of
   * the page before: a server that ignores the offset would never end.
   */
  #fresh(page: Page, walk: Walk): Page {
    const key = JSON.stringify(this.#pager.items(page));
    if (key === walk.last) {
      throw new TinkerError(
        `Stopped iterating ${this.#pager.what}: the server returned the same page at offsets ${walk.lastOffset} and ${walk.offset}, so the listing would never end`,
      );
    }
    walk.last = key;
    return page;
  }
}
