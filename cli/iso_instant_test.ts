// `isoInstant` reads the form servers send by character codes and anything
// else with the `ISO` regex: for every string, the instant and offset are
// the ones `parseIsoMicros` (the regex alone) finds, or none when it finds none.

import assert from "node:assert/strict";
import { isoInstant, parseIsoMicros } from "./_format.ts";

/** Minutes east of UTC of a `parseIsoMicros` offset (`+05:30`, `-00:00`, `""`). */
function minutesOf(offset: string): number {
  if (offset === "") return 0;
  const minutes = Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6));
  return offset[0] === "-" ? -minutes : minutes;
}

function assertSameReading(text: string): void {
  const expected = parseIsoMicros(text);
  const got = isoInstant(text);
  if (expected === undefined) {
    assert.equal(got, undefined, JSON.stringify(text));
    return;
  }
  assert.ok(got !== undefined, JSON.stringify(text));
  assert.equal(got.micros, expected.micros, JSON.stringify(text));
  assert.equal(got.offsetMinutes, minutesOf(expected.offset), JSON.stringify(text));
}

const SERVER_FORMS = [
  "2026-09-27T19:18:04.526606Z",
  "2026-09-27T19:18:04.526Z",
  "2026-09-27T19:18:04Z",
  "2026-09-27T19:18:04.526606+05:30",
  "2026-09-27T19:18:04.526-08:00",
  "2026-09-27T19:18:04+00:00",
  "2026-09-27T19:18:04-00:00",
  "2026-01-31T23:59:59.999999+23:59",
  "2026-12-31T00:00:00.000000-23:59",
];

Deno.test("timestamps in the servers' form read as the ISO regex reads them", () => {
  for (const text of SERVER_FORMS) assertSameReading(text);
  assert.deepEqual(isoInstant("2026-09-27T19:18:04.526606Z"), {
    micros: Date.UTC(2026, 8, 27, 19, 18, 4) * 1000 + 526_606,
    offsetMinutes: 0,
  });
  assert.deepEqual(isoInstant("2026-09-27T19:18:04.500+05:30"), {
    micros: (Date.UTC(2026, 8, 27, 19, 18, 4) - 330 * 60_000) * 1000 + 500_000,
    offsetMinutes: 330,
  });
});

Deno.test("the last days of each month, leap years and the years 0-100 read as the regex reads them", () => {
  for (const year of ["0000", "0001", "0099", "0100", "1900", "2000", "2024", "2026", "9999"]) {
    for (let month = 0; month <= 13; month++) {
      for (const day of ["00", "01", "28", "29", "30", "31", "32"]) {
        const date = `${year}-${String(month).padStart(2, "0")}-${day}`;
        assertSameReading(`${date}T12:00:00Z`);
        assertSameReading(`${date}T12:00:00.123+01:00`);
      }
    }
  }
});

Deno.test("any one character changed in a server timestamp reads as the regex reads it", () => {
  const replacements = [
    ..."0123456789",
    "T",
    "t",
    " ",
    "Z",
    "z",
    "+",
    "-",
    ":",
    ".",
    ",",
    "/",
    "a",
    "٣",
  ];
  for (const text of SERVER_FORMS) {
    for (let i = 0; i < text.length; i++) {
      for (const c of replacements) assertSameReading(text.slice(0, i) + c + text.slice(i + 1));
      assertSameReading(text.slice(0, i) + text.slice(i + 1)); // one character fewer
      assertSameReading(`${text.slice(0, i)}0${text.slice(i)}`); // one more
    }
  }
});

Deno.test("other ISO forms (fractions of 1-9 digits, no seconds, offsets with seconds) still read", () => {
  const others = [
    "2026-01-02T03:04:05.1Z",
    "2026-01-02T03:04:05.12345Z",
    "2026-01-02T03:04:05.123456789Z",
    "2026-01-02T03:04:05,123Z",
    "2026-01-02T03:04:05.1234567+05:30",
    "2026-01-02T03:04:05.123+0530",
    "2026-01-02T03:04:05.5-01:30:15",
    "2026-01-02 03:04:05Z",
    "2026-01-02T03:04Z",
    "2026-01-02T03:04:05",
    "2026-01-02",
    "2026-01-02T03:04:05z",
    "",
    "yesterday",
  ];
  for (const text of others) assertSameReading(text);
  assert.equal(
    isoInstant("2026-01-02T03:04:05.1Z")?.micros,
    Date.UTC(2026, 0, 2, 3, 4, 5) * 1000 + 100_000,
  );
});
