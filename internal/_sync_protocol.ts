// What the calling thread and the sync worker share: the control words and
// the messages. The worker only fetches; everything else of a call (retries,
// timeouts, auth, errors) runs on the calling thread.

import type { FetchOrder } from "./_request.ts";

/** Indexes into the control `Int32Array`. */
export const Ctrl = {
  /** 1 once the worker has its buffers. */
  READY: 0,
  /** Bumped by the worker after each published part (the main thread waits on it). */
  NOTE: 1,
  /** The fetch id of the published part. */
  ID: 2,
  /** The index of the published part within its reply. */
  PART: 3,
  /** Bytes of the part in the data buffer. */
  LEN: 4,
  /** 1 when more parts of the reply follow. */
  MORE: 5,
  /** The main thread's acknowledgement: index of the last part read, plus one. */
  ACK: 6,
  /** The fetch id the main thread waits for (0: none); other replies are dropped. */
  WANT: 7,
  /** Bumped by the worker every BEAT_MS while it fetches. */
  BEAT: 8,
} as const;
export const CTRL_WORDS = 9;
export const BEAT_MS = 250;

/** Main → worker. */
export type ToWorker =
  | { type: "init"; ctrl: SharedArrayBuffer; data: SharedArrayBuffer; partBytes: number }
  | { type: "fetch"; id: number; order: FetchOrder }
  | { type: "cancel"; id: number };

/**
 * Worker → main: `ReplyHead` as JSON, a newline, then the body text (not
 * escaped into the JSON: bodies can be megabytes), or its bytes when `binary`.
 */
export interface ReplyHead {
  status?: number;
  headers?: [string, string][];
  /** Why the fetch failed (network errors), with its causes. */
  error?: FetchFailure;
  /** The body after the newline is binary (`RawResponse.bytes`), not text. */
  binary?: boolean;
  /** The body was over `maxBytes` (by its Content-Length, or as it arrived): not read. */
  tooLarge?: { bytes: number; announced: boolean };
}

/** A failed fetch's error as plain data: what tells a refused connection apart. */
export interface FetchFailure {
  name: string;
  message: string;
  code?: string | undefined;
  cause?: FetchFailure | undefined;
}
