import assert from "node:assert/strict";
import { sseEvents, SseParser } from "./_sse.ts";

const encoder = new TextEncoder();

/** Feeds `pieces` one by one; returns every event's data and whether the end cut an event. */
function parse(pieces: string[]): { data: string[]; cut: boolean } {
  const parser = new SseParser();
  const data = pieces.flatMap((piece) => parser.push(piece).map((e) => e.data));
  return { data, cut: parser.end() };
}

/** Every way of splitting `text` in two. */
function splits(text: string): string[][] {
  return Array.from({ length: text.length + 1 }, (_, i) => [text.slice(0, i), text.slice(i)]);
}

Deno.test("SSE: one event per blank line, data lines joined with a newline", () => {
  const { data, cut } = parse(["data: a\ndata: b\n\ndata: c\n\n"]);
  assert.deepEqual(data, ["a\nb", "c"]);
  assert.equal(cut, false);
});

Deno.test("SSE: LF, CRLF and CR all end lines, wherever the chunks split them", () => {
  for (const eol of ["\n", "\r\n", "\r"]) {
    const text = `: comment${eol}data: {"x":1}${eol}data:two${eol}${eol}data: [DONE]${eol}${eol}`;
    for (const pieces of splits(text)) {
      assert.deepEqual(parse(pieces).data, ['{"x":1}\ntwo', "[DONE]"], JSON.stringify(pieces));
    }
  }
});

Deno.test("SSE: a CR at the end of one chunk and an LF at the start of the next make one line end", () => {
  assert.deepEqual(parse(["data: a\r", "\n\r", "\n"]).data, ["a"]);
  // Two CRs are two line ends: the second one dispatches.
  assert.deepEqual(parse(["data: a\r", "\r"]).data, ["a"]);
});

Deno.test("SSE: comments and unknown fields are ignored; only one leading space is dropped", () => {
  const parser = new SseParser();
  const events = parser.push(
    ": keep-alive\nfoo: bar\nevent: delta\nid: 7\nretry: 1500\ndata:  two spaces\n\n",
  );
  assert.deepEqual(events, [{ event: "delta", data: " two spaces", id: "7", retry: 1500 }]);
  // The id carries over to later events; the event name does not.
  assert.deepEqual(parser.push("data\n\n"), [{ event: "message", data: "", id: "7" }]);
});

Deno.test("SSE: a blank line without data dispatches nothing", () => {
  assert.deepEqual(parse(["\n\nevent: x\n\n: c\n\n"]).data, []);
});

Deno.test("SSE: an event the stream ends inside is discarded and reported as cut", () => {
  assert.deepEqual(parse(["data: a\n\ndata: [DONE]\n"]), { data: ["a"], cut: true });
  assert.deepEqual(parse(["data: a\n\ndata: [DO"]), { data: ["a"], cut: true });
  assert.deepEqual(parse(["data: a\n\n"]), { data: ["a"], cut: false });
});

Deno.test("SSE: bytes are decoded as UTF-8 across chunk boundaries, a leading BOM dropped", async () => {
  const bytes = encoder.encode("\uFEFFdata: héllo → ✓\n\n");
  const events = [];
  async function* oneByteAtATime() {
    for (const byte of bytes) yield new Uint8Array([byte]);
  }
  const gen = sseEvents(oneByteAtATime());
  for (;;) {
    const next = await gen.next();
    if (next.done) {
      assert.equal(next.value.cut, false);
      break;
    }
    events.push(next.value.data);
  }
  assert.deepEqual(events, ["héllo → ✓"]);
});

Deno.test("SSE: leaving the loop early closes the byte source", async () => {
  let closed = false;
  async function* source() {
    try {
      yield encoder.encode("data: 1\n\ndata: 2\n\n");
      yield encoder.encode("data: 3\n\n");
    } finally {
      closed = true;
    }
  }
  for await (const event of sseEvents(source())) {
    assert.equal(event.data, "1");
    break;
  }
  assert.equal(closed, true);
});
