// Server-sent events, parsed incrementally as the WHATWG HTML standard
// defines the `text/event-stream` format: lines end in LF, CRLF or CR (also
// split across chunks); `data:` lines of one event are joined with "\n"; a
// line starting with ":" is a comment; one space after the colon is dropped;
// a blank line dispatches the event; an event the stream ends inside (no
// blank line after it) is discarded. Sans-I/O: `SseParser` takes text; the
// caller reads the bytes.

/** One dispatched event. */
export interface SseEvent {
  /** The `event:` field (`"message"` when none was sent). */
  event: string;
  /** The `data:` lines, joined with "\n". */
  data: string;
  /** The last `id:` seen so far in the stream (`""` when none). */
  id: string;
  /** The `retry:` field of this event, in milliseconds, when sent. */
  retry?: number;
}

/** An incremental parser: `push` text as it arrives, `end` at the end of the stream. */
export class SseParser {
  #line = "";
  #skipLf = false; // The last chunk ended in CR: a leading LF of the next one is its pair.
  #data: string[] = [];
  #event = "";
  #id = "";
  #retry: number | undefined;

  /** Parses `text` (any piece of the stream) and returns the events it completed. */
  push(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    let start = 0;
    if (this.#skipLf && text.startsWith("\n")) start = 1;
    this.#skipLf = false;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.#line += text.slice(start, i);
      this.#onLine(this.#line, events);
      this.#line = "";
      if (c === 13) {
        if (i + 1 === text.length) this.#skipLf = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.#line += text.slice(start);
    return events;
  }

  /**
   * The stream ended. Returns nothing: an event without its closing blank
   * line is incomplete and, per the standard, discarded.
   *
   * @returns Whether anything was discarded (a stream cut inside an event).
   */
  end(): boolean {
    const cut = this.#line !== "" || this.#data.length > 0;
    this.#line = "";
    this.#data = [];
    this.#event = "";
    return cut;
  }

  #onLine(line: string, events: SseEvent[]): void {
    if (line === "") {
      if (this.#data.length > 0) {
        const event: SseEvent = {
          event: this.#event || "message",
          data: this.#data.join("\n"),
          id: this.#id,
        };
        if (this.#retry !== undefined) event.retry = this.#retry;
        events.push(event);
      }
      this.#data = [];
      this.#event = "";
      this.#retry = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ":" — a comment (keep-alive).
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case "data":
        this.#data.push(value);
        break;
      case "event":
        this.#event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.#id = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
        // Other fields are ignored.
    }
  }
}

/**
 * The events of a byte stream, decoded as UTF-8 (a BOM at the start is
 * dropped) and parsed as they arrive. Leaving the loop early closes `chunks`.
 *
 * @returns The events, then `{ cut }` when the stream ended: `cut` is true
 *   when it ended inside an event.
 */
export async function* sseEvents(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<SseEvent, { cut: boolean }, undefined> {
  const decoder = new TextDecoder();
  const parser = new SseParser();
  for await (const chunk of chunks) {
    yield* parser.push(decoder.decode(chunk, { stream: true }));
  }
  yield* parser.push(decoder.decode());
  return { cut: parser.end() };
}
