// The body of a streamed response (server-sent events), read on the calling
// thread: the attempt's deadline no longer applies once the head has
// arrived; instead each chunk must arrive within `timeoutMs` of asking for it
// (the request function's timer wheel), and the call's signal still aborts
// the read. Each read watches the attempt's controller itself (`untilAborted`):
// fetch's own signal no longer reaches the body once the runtime has
// garbage-collected the request and response. Imported only by clients
// that stream.

import { ApiConnectionError, ApiTimeoutError } from "../errors.ts";
import {
  abortError,
  armDeadline,
  type BodyChunks,
  disarmDeadline,
  type FetchStep,
  type StreamBody,
  untilAborted,
} from "./_request.ts";

/**
 * The chunks of a streamed body. The attempt's deadline no longer applies
 * once the head has arrived; instead each chunk must arrive within
 * `timeoutMs` of asking for it (the same timer wheel), and the call's signal
 * still aborts the read; either closes the connection.
 */
export const streamBody: StreamBody = (
  body: ReadableStream<Uint8Array>,
  step: FetchStep,
  controller: AbortController,
  detach: () => void,
): BodyChunks => {
  const reader = body.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  let open = true;
  let bytes = 0;
  const close = () => {
    if (open) detach();
    open = false;
  };
  const finished = (): IteratorResult<Uint8Array, undefined> => ({ done: true, value: undefined });
  return {
    async next() {
      if (!open) return finished();
      const deadline = armDeadline(performance.now() + step.timeoutMs, controller);
      try {
        // Fetch's own signal stops reaching the body once the runtime has
        // collected the request (Deno follows it weakly): watch it here.
        const signal = controller.signal;
        const chunk = await untilAborted(reader.read(), signal, () => signal.reason, cancel);
        if (chunk.done) {
          close();
          return finished();
        }
        bytes += chunk.value.byteLength;
        return chunk;
      } catch (error) {
        close();
        const reason = controller.signal.aborted ? controller.signal.reason : undefined;
        if (reason === "user") throw abortError(step);
        if (reason === "timeout") {
          throw new ApiTimeoutError({
            message:
              `No data for ${step.timeoutMs} ms while reading the response stream, after ${bytes} bytes (${step.what})`,
          });
        }
        const text = error instanceof Error ? error.message : String(error);
        throw new ApiConnectionError({
          message: `The response stream broke after ${bytes} bytes (${step.what}): ${text}`,
          cause: error,
        });
      } finally {
        disarmDeadline(deadline);
      }
    },
    async return() {
      if (open) {
        close();
        await reader.cancel().catch(() => {});
      }
      return finished();
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
};
