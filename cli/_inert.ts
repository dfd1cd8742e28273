// The one escaping function for text that did not come from the user and is
// about to reach a terminal: server answers, file names in archives, URLs.
// A terminal obeys control characters (`ESC[2J` clears the screen, OSC 0 sets
// the window title, OSC 8 plants a link, `\r` overwrites the line) and bidi
// overrides reorder what is shown; here each of them is shown as `\uXXXX`
// instead, which is also a valid JSON escape (so JSON Lines stay JSON).

/**
 * What a terminal would obey rather than show: C0 controls (but newline and
 * tab, which {@linkcode inert} may keep), DEL, C1 controls (including the
 * one-byte CSI `\u009b`), the bidi marks, embeddings, overrides and isolates
 * (U+061C, U+200E/U+200F, U+202A–U+202E, U+2066–U+2069) and the line and
 * paragraph separators U+2028/U+2029.
 */
// deno-lint-ignore no-control-regex
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
// deno-lint-ignore no-control-regex
const UNSAFE_ONE_LINE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** Printable ASCII (and space): nothing to escape, the common case. */
const PLAIN = /^[\x20-\x7e]*$/;

const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/**
 * `text` made inert for a terminal: every control character and bidi
 * override written out as `\uXXXX`. Newlines and tabs are kept unless
 * `oneLine` is set (a value that must stay on its line: a file name in a
 * list, a progress label, a URL).
 */
export function inert(text: string, oneLine = false): string {
  if (PLAIN.test(text)) return text;
  return text.replace(oneLine ? UNSAFE_ONE_LINE : UNSAFE, escape);
}

/** `text` quoted (`"…"`, as JSON quotes it) with everything a terminal would obey escaped. */
export function quoted(text: string): string {
  return inert(JSON.stringify(text), true);
}
