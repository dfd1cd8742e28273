// Turns: the requests of one model go out in call order (the SDK's
// `_take_turn`), whether or not the caller awaits between calls. A call takes
// a turn when it is made (its sequence id follows from it); its request waits
// until every earlier turn is over: sent, failed or abandoned.

import { ApiUserAbortError } from "../errors.ts";
import { SyncUnavailableError } from "./_future.ts";
import type { TurnQueue } from "./_request.ts";

/** The call that owns a turn, so `.result()` can run it first when it has not started. */
export interface TurnOwner {
  /** True once the call runs (asynchronously or blocking) or is settled. */
  readonly started: boolean;
  result(): unknown;
}

/** The turns of one model. */
export class Turns implements TurnQueue {
  #taken = 0;
  /** Every turn below this one is over. */
  #next = 0;
  #over = new Set<number>();
  #waiters = new Map<number, (() => void)[]>();
  #owners = new Map<number, TurnOwner>();

  /** Hands out the next turn (0, 1, 2, …). */
  take(): number {
    return this.#taken++;
  }

  /** Records the call that owns `turn`. */
  own(turn: number, owner: TurnOwner): void {
    if (turn >= this.#next && !this.#over.has(turn)) this.#owners.set(turn, owner);
  }

  /** Ends `turn` (sent, failed or abandoned); later turns may go. */
  end(turn: number): void {
    if (turn < this.#next) return; // Already over.
    this.#over.add(turn);
    this.#owners.delete(turn);
    while (this.#over.delete(this.#next)) {
      this.#next++;
      for (const wake of this.#waiters.get(this.#next) ?? []) wake();
      this.#waiters.delete(this.#next);
    }
  }

  wait(turn: number, signal: AbortSignal | undefined): Promise<void> | undefined {
    if (turn <= this.#next) return undefined;
    return new Promise((resolve, reject) => {
      const abort = () => {
        const list = this.#waiters.get(turn);
        list?.splice(list.indexOf(wake), 1);
        reject(new ApiUserAbortError({ message: "Request was aborted", cause: signal?.reason }));
      };
      const wake = () => {
        signal?.removeEventListener("abort", abort);
        resolve();
      };
      if (signal?.aborted) return abort();
      signal?.addEventListener("abort", abort, { once: true });
      const list = this.#waiters.get(turn) ?? [];
      list.push(wake);
      this.#waiters.set(turn, list);
    });
  }

  waitSync(turn: number): void {
    while (this.#next < turn) {
      const at = this.#next;
      const owner = this.#owners.get(at);
      if (owner === undefined || owner.started) {
        throw new SyncUnavailableError(
          `Cannot block on this call with .result(): an earlier call of the same model (turn ${at}) is still being sent asynchronously; await this call instead`,
        );
      }
      try {
        owner.result(); // Runs the earlier call first, blocking; its outcome is its own.
      } catch (error) {
        if (error instanceof SyncUnavailableError) throw error;
      }
      if (this.#next === at) {
        throw new SyncUnavailableError(
          `Cannot block on this call with .result(): an earlier call of the same model (turn ${at}) did not finish sending; await this call instead`,
        );
      }
    }
  }
}
