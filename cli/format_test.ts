// The official CLI's formatting helpers (test_cli_output.py cases) and the
// Python value renderings the JSON/CSV/table output depends on.

import assert from "node:assert/strict";
import {
  formatSize,
  formatTimestamp,
  parseIsoMicros,
  pydanticIso,
  pyDatetimeStr,
  pyFixed,
  PyFloat,
  pyFloatRepr,
  pyJson,
  pyRepr,
} from "./_format.ts";
import { parseDate } from "./_checkpoint.ts";
import { renderTable } from "./_table.ts";
import { parseCommandLine } from "./_args.ts";

Deno.test("format_size", () => {
  const cases: [number, string][] = [
    [500, "500 B"],
    [1536, "1.5 KB"],
    [1572864, "1.5 MB"],
    [1610612736, "1.5 GB"],
    [1649267441664, "1.5 TB"],
    [0, "0 B"],
    [-1, "N/A"],
    [1280, "1.2 KB"], // 1.25 rounds half to even, as Python does
    [1234, "1.2 KB"],
    [1024 ** 6 * 3, "3.0 EB"],
    [1024 ** 7 * 3, "3072.0 EB"], // EB is the last unit
    [1023, "1023 B"],
    [1023.9, "1023 B"],
    [1024, "1.0 KB"],
    [1024 ** 2 - 1, "1024.0 KB"], // rounds up, but stays in KB as Python's does
    [NaN, "nan EB"],
  ];
  for (const [bytes, text] of cases) assert.equal(formatSize(bytes), text, String(bytes));
});

Deno.test("format_timestamp", () => {
  const now = Date.UTC(2026, 5, 15, 12, 0, 0);
  const at = (ms: number) => new Date(now + ms).toISOString();
  const cases: [unknown, string][] = [
    [null, "N/A"],
    ["", "N/A"],
    [at(-30_000), "just now"],
    [at(30_000), "in less than a minute"],
    [at(-90_000), "1 minute ago"],
    [at(90_000), "in 1 minute"],
    [at(-5_400_000), "1 hour ago"],
    [at(-129_600_000), "1 day ago"],
    [at(-864_000_000), "1 week ago"],
    [at(-45 * 86_400_000), "2026-05-01"],
    [at(45 * 86_400_000), "2026-07-30"],
    ["not a date", "not a date"],
    [12345, "12345"],
    ["2026-06-15T11:00:00", "60 minutes ago"], // naive = UTC; exactly 3600 s is not > 3600
    ["2026-06-15T13:30:00+02:00", "30 minutes ago"],
  ];
  for (const [value, text] of cases) assert.equal(formatTimestamp(value, now), text, String(value));
});

Deno.test("Python renderings", () => {
  assert.equal(pyFixed(0.25, 1), "0.2");
  assert.equal(pyFixed(0.35, 1), "0.3"); // 0.35 is 0.34999… in binary
  assert.equal(pyFixed(9.96, 1), "10.0");
  assert.equal(pyFloatRepr(1), "1.0");
  assert.equal(pyFloatRepr(1e-5), "1e-05");
  assert.equal(pyFloatRepr(1e16), "1e+16");
  assert.equal(pyFloatRepr(0.0021), "0.0021");
  assert.equal(pyFloatRepr(123456.789), "123456.789");
  assert.equal(pyDatetimeStr("2025-01-02T03:04:05.123456Z"), "2025-01-02 03:04:05.123456+00:00");
  assert.equal(pyDatetimeStr("2025-01-02T03:04:05Z"), "2025-01-02 03:04:05+00:00");
  assert.equal(pyDatetimeStr("2025-01-02T03:04:05.5+05:30"), "2025-01-02 03:04:05.500000+05:30");
  assert.equal(pyDatetimeStr("2025-01-02T03:04:05"), "2025-01-02 03:04:05");
  assert.equal(pydanticIso("2026-07-13T05:00:00+00:00"), "2026-07-13T05:00:00Z");
  assert.equal(
    pyRepr({ detail: "it's", n: [1, 2.5, null, true] }),
    `{'detail': "it's", 'n': [1, 2.5, None, True]}`,
  );
  assert.equal(
    pyJson({ a: "é", b: new PyFloat(2), c: [] }, 2),
    '{\n  "a": "\\u00e9",\n  "b": 2.0,\n  "c": []\n}',
  );
  assert.equal(pyJson({ deleted_count: 1, failed: [] }), '{"deleted_count": 1, "failed": []}');
});

Deno.test("timestamps are checked like datetime.fromisoformat", () => {
  // Valid calendar dates only, years 1–9999 (years below 100 included).
  assert.equal(pyDatetimeStr("2024-02-29T00:00:00"), "2024-02-29 00:00:00");
  assert.equal(pyDatetimeStr("2000-02-29T00:00:00"), "2000-02-29 00:00:00");
  assert.equal(pyDatetimeStr("2026-02-29T00:00:00"), "2026-02-29T00:00:00");
  assert.equal(pyDatetimeStr("1900-02-29T00:00:00"), "1900-02-29T00:00:00");
  assert.equal(pyDatetimeStr("2026-04-31"), "2026-04-31");
  assert.equal(pyDatetimeStr("2026-13-01"), "2026-13-01");
  assert.equal(pyDatetimeStr("0000-01-01"), "0000-01-01");
  assert.equal(pyDatetimeStr("0050-03-04T05:06:07Z"), "0050-03-04 05:06:07+00:00");
  const year50 = new Date(Date.UTC(2000, 2, 4, 5, 6, 7)).setUTCFullYear(50);
  assert.equal(formatTimestamp("0050-03-04T05:06:07Z", year50 + 3_600_000), "60 minutes ago");
});

Deno.test("a date more than 30 days away is the UTC date, shifted by the offset", () => {
  const now = Date.UTC(2026, 5, 15, 12, 0, 0);
  const cases: [string, string][] = [
    ["2026-01-02T03:04:05.123456Z", "2026-01-02"], // UTC: the date as written
    ["2026-01-02T03:04:05+00:00", "2026-01-02"],
    ["2026-01-02T03:04:05-00:00", "2026-01-02"],
    ["2026-01-02", "2026-01-02"], // naive = UTC
    ["2026-01-02T03:04:05+05:00", "2026-01-01"], // 22:04 UTC the day before
    ["2026-01-02T20:00:00-05:00", "2026-01-03"], // 01:00 UTC the day after
    ["2026-03-01T00:30+0100", "2026-02-28"],
    ["2024-03-01T00:30:00+01:00", "2024-02-29"], // leap day
    ["0001-01-01T00:00:00+01:00", "0000-12-31"], // before year 1, as toISOString writes it
    ["9999-12-31T23:00:00-02:00", "+010000-01"], // after year 9999, cut at 10 characters
    ["0050-03-04T05:06:07Z", "0050-03-04"],
    ["2026-01-02T03:04:05.9999999Z", "2026-01-02"], // fractions beyond microseconds are cut
  ];
  for (const [value, text] of cases) assert.equal(formatTimestamp(value, now), text, value);
});

Deno.test("timestamps keep microseconds and offsets (seconds and all)", () => {
  const micros = (text: string) => parseIsoMicros(text)?.micros;
  const base = Date.UTC(2026, 0, 2, 3, 4, 5) * 1000;
  assert.equal(micros("2026-01-02T03:04:05Z"), base);
  assert.equal(micros("2026-01-02T03:04:05.1Z"), base + 100_000);
  assert.equal(micros("2026-01-02T03:04:05,123456Z"), base + 123_456);
  assert.equal(micros("2026-01-02T03:04:05.123456789Z"), base + 123_456);
  assert.equal(micros("2026-01-02T03:04:05.1234567890Z"), undefined); // at most 9 digits
  assert.equal(micros("2026-01-02T03:04:05.Z"), undefined);
  assert.equal(micros("2026-01-02T03:04:05+01:30"), base - 90 * 60_000_000);
  assert.equal(micros("2026-01-02T03:04:05-0130"), base + 90 * 60_000_000);
  assert.equal(micros("2026-01-02T03:04:05+24:00"), undefined);
  assert.equal(micros("2026-01-02T03:04:05+01:60"), undefined);
  assert.equal(micros("2026-01-02T24:00:00Z"), undefined);
  assert.equal(micros("2026-01-02T03:60:00Z"), undefined);
  assert.equal(micros("2026-01-02T03:04:60Z"), undefined);
  assert.equal(micros("2026-01-02T0304"), Date.UTC(2026, 0, 2, 3, 4) * 1000);
  assert.equal(micros("2026-01-02 03Z"), Date.UTC(2026, 0, 2, 3) * 1000);
  assert.equal(micros("2026-01-02T3:04"), undefined);
  assert.equal(micros("2026-01-02Z"), undefined); // an offset needs a time
  assert.equal(micros("2026-01-02T03:04:05Z "), undefined);
  const parsed = parseIsoMicros("2026-01-02T03:04:05.5-01:30:15")!;
  assert.equal(parsed.offset, "-01:30:15");
  assert.equal(parsed.fields.micro, "500000");
  assert.equal(parsed.hasTime, true);
  assert.equal(parseIsoMicros("2026-01-02T03:04:05+01:30:00")!.offset, "+01:30");
  assert.equal(parseIsoMicros("2026-01-02z")?.offset, undefined);
  assert.equal(parseIsoMicros("2026-01-02T03:04:05z")!.offset, "+00:00");
  assert.equal(parseIsoMicros("2026-01-02")!.hasTime, false);
});

Deno.test("one-decimal sizes round half to even on the exact binary value", () => {
  // Exact ties (k + 0.5 tenths in binary) go to the even digit, as in Python;
  // everything else agrees with toFixed.
  const cases: [number, number, string][] = [
    [0.25, 1, "0.2"],
    [0.75, 1, "0.8"],
    [2.5, 0, "2"],
    [3.5, 0, "4"],
    [1.05, 1, "1.1"], // 1.0500000000000000444… is above the tie
    [1023.95, 1, "1024.0"],
    [-0.04, 1, "-0.0"],
    [-0, 1, "-0.0"],
    [123456.789, 2, "123456.79"],
    [1e-7, 3, "0.000"],
  ];
  for (const [x, digits, text] of cases) assert.equal(pyFixed(x, digits), text, `${x}`);
});

Deno.test("delete --before/--after dates", () => {
  assert.equal(parseDate("2024-01-15"), Date.UTC(2024, 0, 15) * 1000);
  assert.equal(parseDate("2024-06-01T12:00:00Z"), Date.UTC(2024, 5, 1, 12) * 1000);
  assert.equal(parseDate("2024-06-01T12:00:00+00:00"), Date.UTC(2024, 5, 1, 12) * 1000);
  assert.equal(parseDate("2024-06-01T12:00:00"), Date.UTC(2024, 5, 1, 12) * 1000);
  assert.equal(parseDate("  2024-01-01  "), Date.UTC(2024, 0, 1) * 1000);
  assert.throws(() => parseDate("not-a-date"), /Invalid date: not-a-date/);
  assert.throws(() => parseDate("01/15/2024"), /Invalid date/);
});

Deno.test("tables: rich layout at a narrow width", () => {
  const table = renderTable({
    title: "2 things",
    columns: ["Name", "Description"],
    rows: [["alpha", "a fairly long description"], ["b", "short"]],
  }, { width: 30, color: false });
  assert.equal(
    table,
    [
      "           2 things           ",
      "┏━━━━━━━┳━━━━━━━━━━━━━━━━━━━━┓",
      "┃ Name  ┃ Description        ┃",
      "┡━━━━━━━╇━━━━━━━━━━━━━━━━━━━━┩",
      "│ alpha │ a fairly long      │",
      "│       │ description        │",
      "│ b     │ short              │",
      "└───────┴────────────────────┘",
      "",
    ].join("\n"),
  );
  // A short row is padded with empty cells; a long word is cropped with `…`.
  assert.equal(
    renderTable({ columns: ["A", "B"], rows: [["x"], ["y", "tinker://run/weights/0001"]] }, {
      width: 20,
      color: false,
    }),
    [
      "┏━━━┳━━━━━━━━━━━━━━┓",
      "┃ A ┃ B            ┃",
      "┡━━━╇━━━━━━━━━━━━━━┩",
      "│ x │              │",
      "│ y │ tinker://ru… │",
      "└───┴──────────────┘",
      "",
    ].join("\n"),
  );
  // Plain ASCII cells take a one-pass wrap; the general path (any other
  // text) must give the same lines: "á" is one cell like "a", so a table
  // with "á" in place of "a" must read the same once it is mapped back.
  const cells = [
    "327.0 MB",
    "a  b   c",
    "averyveryverylongword and more",
    "   leading spaces",
    "trailing spaces    ",
    "x supercalifragilisticexpialidocious y",
    "     ",
  ];
  for (const width of [12, 16, 20, 27, 33]) {
    const spec = (f: (text: string) => string) => ({
      columns: ["Id", f("Text"), "More"],
      rows: cells.map((text, i) => [String(i), f(text), f(cells[(i + 3) % cells.length]!)]),
    });
    const style = { width, color: false };
    const plain = renderTable(spec((t) => t), style);
    const general = renderTable(spec((t) => t.replaceAll("a", "á")), style);
    assert.equal(general.replaceAll("á", "a"), plain, `width ${width}`);
  }
  const colored = renderTable({ columns: ["A"], rows: [["x"]] }, { width: 80, color: true });
  assert.ok(colored.includes("\x1b[1m A \x1b[0m"), colored);
  assert.ok(colored.includes("\x1b[96m x \x1b[0m"), colored);
});

Deno.test("arguments: global options before or after the command", () => {
  const before = parseCommandLine(["-f", "json", "run", "list", "--limit=5"]);
  const after = parseCommandLine(["run", "list", "--limit", "5", "--format", "json"]);
  for (const parsed of [before, after]) {
    assert.equal(parsed.kind, "command");
    if (parsed.kind !== "command") continue;
    assert.equal(parsed.global.format, "json");
    assert.equal(parsed.parsed.options.limit, 5);
  }
  const help = parseCommandLine(["checkpoint", "delete", "--help"]);
  assert.equal(help.kind, "help");
  assert.throws(
    () => parseCommandLine(["run", "info", "a", "b"]),
    /unexpected extra argument \(b\)/,
  );
});
