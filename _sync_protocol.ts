// What the calling thread and the sync worker share: the control words, the
// messages, and errors as plain data (rebuilt as the real classes).

import {
  ApiConnectionError,
  ApiError,
  ApiResponseValidationError,
  ApiTimeoutError,
  ApiUserAbortError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  TinkerError,
  UnprocessableEntityError,
} from "./errors.ts";
import type { AuthState, EngineConfig, Operation } from "./_engine.ts";
import { TinkerPathError } from "./tinker_path.ts";

/** Indexes into the control `Int32Array`. */
export const Ctrl = {
  /** 1 once the worker has its buffers. */
  READY: 0,
  /** Bumped by the worker after each published part (the main thread waits on it). */
  NOTE: 1,
  /** The call id of the published part. */
  ID: 2,
  /** The index of the published part within its reply. */
  PART: 3,
  /** Bytes of the part in the data buffer. */
  LEN: 4,
  /** 1 when more parts of the reply follow. */
  MORE: 5,
  /** The main thread's acknowledgement: index of the last part read, plus one. */
  ACK: 6,
  /** The call id the main thread waits for (0: none); other replies are dropped. */
  WANT: 7,
  /** Bumped by the worker every BEAT_MS while it runs calls. */
  BEAT: 8,
} as const;
export const CTRL_WORDS = 9;
export const BEAT_MS = 250;

/** Main → worker. */
export type ToWorker =
  | { type: "init"; ctrl: SharedArrayBuffer; data: SharedArrayBuffer; partBytes: number }
  | {
    type: "call";
    id: number;
    op: Operation;
    call: { timeoutMs?: number | undefined; aborted?: boolean };
    config: EngineConfig;
    auth: AuthState | undefined;
    log: boolean;
  }
  | { type: "cancel"; id: number };

/** Worker → main, as JSON in the data buffer. */
export interface Reply {
  ok: boolean;
  value?: unknown;
  error?: WireError;
  auth?: AuthState | undefined;
  logs?: string[];
}

/** An error as plain data. */
export interface WireError {
  /** A key of ERROR_CLASSES, or a built-in error's name. */
  cls: string;
  name: string;
  message: string;
  status?: number | undefined;
  headers?: [string, string][] | undefined;
  body?: unknown;
  argument?: string;
  input?: string;
  cause?: WireError;
}

/** Every class an error can come back as (keys survive minification). */
const ERROR_CLASSES: Record<string, new (...args: never[]) => Error> = {
  TinkerError,
  ApiError,
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  UnprocessableEntityError,
  RateLimitError,
  InternalServerError,
  ApiConnectionError,
  ApiTimeoutError,
  ApiUserAbortError,
  ApiResponseValidationError,
  InvalidArgumentError,
  TinkerPathError,
};

const BUILT_IN: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
};

/** `error` as plain data (JSON-safe). */
export function toWire(error: unknown, depth = 0): WireError {
  if (!(error instanceof Error)) {
    return { cls: "Error", name: "Error", message: String(error) };
  }
  const proto = Object.getPrototypeOf(error);
  let cls = "Error";
  for (const [key, value] of Object.entries(ERROR_CLASSES)) {
    if (value.prototype === proto) cls = key;
  }
  if (cls === "Error" && error.name in BUILT_IN) cls = error.name;
  const wire: WireError = { cls, name: error.name, message: error.message };
  if (error instanceof ApiError) {
    wire.status = error.status;
    wire.headers = error.headers && [...error.headers];
    wire.body = error.body;
  }
  if (error instanceof InvalidArgumentError) wire.argument = error.argument;
  if (error instanceof TinkerPathError) wire.input = error.input;
  if (error.cause !== undefined && depth < 4) wire.cause = toWire(error.cause, depth + 1);
  return wire;
}

/** Rebuilds the error `toWire` described, as its real class. */
export function fromWire(wire: WireError): Error {
  const cause = wire.cause && fromWire(wire.cause);
  const Class = ERROR_CLASSES[wire.cls];
  let error: Error;
  if (Class && Class.prototype instanceof ApiError) {
    const ApiClass = Class as unknown as typeof ApiError;
    error = new ApiClass({
      status: wire.status,
      headers: wire.headers && new Headers(wire.headers),
      body: wire.body,
      message: wire.message,
      cause,
    });
  } else if (Class === InvalidArgumentError) {
    error = new InvalidArgumentError(wire.argument ?? "", "");
  } else if (Class === TinkerPathError) {
    error = new TinkerPathError(wire.input ?? "", "");
  } else if (Class === TinkerError) {
    error = new TinkerError(wire.message, cause && { cause });
  } else {
    error = new (BUILT_IN[wire.cls] ?? Error)(wire.message, cause && { cause });
    if (error.name !== wire.name) error.name = wire.name;
  }
  if (error.message !== wire.message) error.message = wire.message;
  return error;
}
