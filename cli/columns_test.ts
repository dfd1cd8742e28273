// The width tables and help are laid out for: `COLUMNS`, read with a
// character check (a regex costs 10–120 µs on its first use at a CLI's start)
// that accepts exactly what `/^\d+$/` accepted.

import assert from "node:assert/strict";
import { terminalColumns } from "./_main.ts";

Deno.test("COLUMNS of ASCII digits sets the width; anything else falls back to the terminal's", () => {
  const terminal = { columns: () => 77 } as unknown as Parameters<typeof terminalColumns>[1];
  const digits = /^\d+$/;
  for (const value of ["", "a", "x\n", "120", "0080", "1e3", " 80", "80 ", "+80", "-1", "٣"]) {
    const expected = value && digits.test(value) ? Number(value) : 77;
    assert.equal(terminalColumns({ COLUMNS: value }, terminal), expected, JSON.stringify(value));
  }
  assert.equal(terminalColumns({}, terminal), 77);
});
