/**
 * Replies and their writing onto `node:http` responses, with the cut-offs that
 * fault injection needs.
 *
 * @module
 */
import type { ServerResponse } from "node:http";

/** What a handler answers. `body` may stream; then `length` (if known) becomes `Content-Length`. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array | AsyncIterable<Uint8Array>;
  length?: number;
}

const encoder = new TextEncoder();

/** A JSON reply. */
export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(value),
  };
}

/** A FastAPI-style error: `{"detail": ...}`. */
export function detail(status: number, message: unknown): Reply {
  return json(status, { detail: message });
}

/** FastAPI's 422 for one invalid field. */
export function invalid(
  loc: string[],
  type: string,
  msg: string,
  input: unknown,
  ctx?: object,
): Reply {
  return detail(422, [{ type, loc, msg, input, ...(ctx ? { ctx } : {}) }]);
}

/** An empty reply (204 by default). */
export function empty(status = 204, headers: Record<string, string> = {}): Reply {
  return { status, headers };
}

/**
 * Writes `reply` onto `res`. With `cutAt`, only that many body bytes are sent
 * (the `Content-Length` still announces the full body) and the socket is destroyed,
 * after `stall` when given (the connection open and silent meanwhile).
 * Resolves once done; never rejects (a vanished client just ends the write).
 */
export async function writeReply(
  res: ServerResponse,
  reply: Reply,
  cutAt?: number,
  stall?: () => Promise<void>,
): Promise<void> {
  const body = typeof reply.body === "string" ? encoder.encode(reply.body) : reply.body;
  const length = body instanceof Uint8Array ? body.byteLength : reply.length;
  const headers: Record<string, string> = { ...reply.headers };
  if (length !== undefined && reply.status !== 204 && reply.status !== 304) {
    headers["content-length"] = String(length);
  }
  try {
    res.writeHead(reply.status, headers);
    if (cutAt !== undefined) res.flushHeaders();
    let sent = 0;
    const chunks = body === undefined ? [] : body instanceof Uint8Array ? [body] : body;
    for await (const chunk of chunks) {
      if (res.destroyed) return;
      const room = cutAt === undefined
        ? chunk.byteLength
        : Math.min(chunk.byteLength, cutAt - sent);
      const piece = room === chunk.byteLength ? chunk : chunk.subarray(0, Math.max(room, 0));
      if (cutAt !== undefined) await flushed(res, piece);
      else if (!res.write(piece)) await drained(res);
      sent += room;
      if (cutAt !== undefined && sent >= cutAt) break;
    }
    if (cutAt !== undefined && stall !== undefined && !res.destroyed) await stall();
    if (cutAt !== undefined) res.socket?.destroy();
    else res.end();
  } catch {
    res.destroy();
  }
}

/** Writes one chunk and waits until it has left the process. */
function flushed(res: ServerResponse, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("close", done);
      resolve();
    };
    res.once("close", done);
    res.write(chunk, done);
  });
}

/** Waits for the socket buffer to drain (or the client to go away). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}
