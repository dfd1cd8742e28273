// Tables in narrow terminals: below a readable column width they print as
// vertical key–value records instead of a grid of squashed columns.

import assert from "node:assert/strict";
import {
  cellLen,
  NARROW_BELOW,
  propertyTable,
  READABLE_CELLS,
  renderTable,
  type TableSpec,
} from "./_table.ts";

const RUNS: TableSpec = {
  title: "3 training runs",
  columns: ["Run ID", "Base Model", "Owner", "LoRA", "Last Update"],
  rows: [
    [
      "9034e32c-94a9-4887-93e0-1aa49c086659:train:1",
      "meta-llama/Llama-3.1-8B",
      "ada",
      "Rank 32",
      "2026-09-27",
    ],
    [
      "f729edbb-9467-4242-8178-72d2b0f308e2:train:0",
      "Qwen/Qwen3-8B",
      "grace",
      "Rank 64",
      "2026-09-23",
    ],
  ],
};

const lines = (text: string) => text.trimEnd().split("\n");

Deno.test("a table too wide for 40 columns prints every value whole, as records", () => {
  const text = renderTable(RUNS, { width: 40, color: false });
  assert.ok(!/[┏┃│└]/.test(text), `no grid:\n${text}`);
  assert.ok(!text.includes("…"), "nothing is cropped");
  for (const line of lines(text)) assert.ok(cellLen(line) <= 40, `fits: ${JSON.stringify(line)}`);
  assert.deepEqual(lines(text).slice(0, 9), [
    "3 training runs",
    "",
    "9034e32c-94a9-4887-93e0-1aa49c086659:tra",
    "in:1",
    "  Base Model: meta-llama/Llama-3.1-8B",
    "  Owner: ada",
    "  LoRA: Rank 32",
    "  Last Update: 2026-09-27",
    "",
  ]);
  assert.ok(text.includes("  Base Model: Qwen/Qwen3-8B\n"));
});

Deno.test("the same table stays a grid where every column is readable", () => {
  const text = renderTable(RUNS, { width: 160, color: false });
  assert.ok(text.includes("┏"), text);
  assert.ok(
    text.includes("│ 9034e32c-94a9-4887-93e0-1aa49c086659:train:1 │ meta-llama/Llama-3.1-8B │"),
  );
});

Deno.test("the switch happens where a column would drop below READABLE_CELLS", () => {
  const spec: TableSpec = { columns: ["A", "B"], rows: [["x", "abcdefghijklmnop qrstuvwxyz"]] };
  // Grid width = 2 columns + 3 borders; column A takes 3 cells.
  const at = (inner: number) => renderTable(spec, { width: 3 + 3 + inner + 2, color: false });
  assert.ok(at(READABLE_CELLS).includes("┏"));
  assert.ok(!at(READABLE_CELLS - 1).includes("┏"));
});

Deno.test("info tables print key: value lines, sub-properties indented", () => {
  const spec = propertyTable("Training Run: run-1", [
    ["Run ID", "9034e32c-94a9-4887-93e0-1aa49c086659:train:1"],
    ["Status", "OK"],
    ["Last Training Checkpoint", "weights/000010"],
    ["  - Path", "tinker://9034e32c-94a9-4887-93e0-1aa49c086659:train:1/weights/000010"],
  ]);
  const text = renderTable(spec, { width: 40, color: false });
  assert.deepEqual(lines(text), [
    "Training Run: run-1",
    "",
    "Run ID:",
    "  9034e32c-94a9-4887-93e0-1aa49c086659:t",
    "  rain:1",
    "Status: OK",
    "Last Training Checkpoint: weights/000010",
    "  - Path:",
    "      tinker://9034e32c-94a9-4887-93e0-1",
    "      aa49c086659:train:1/weights/000010",
  ]);
});

Deno.test("records are coloured like the grid and keep server text inert", () => {
  const spec: TableSpec = {
    columns: ["Id", "Note", "C", "D"],
    rows: [["a", "x\x1b[2Jy ".repeat(12), "c", "d"]],
  };
  const text = renderTable(spec, { width: 24, color: true });
  assert.ok(!text.includes("┏"));
  assert.ok(text.includes("\x1b[96ma\x1b[0m"), JSON.stringify(text));
  assert.ok(text.includes("\x1b[1m  Note:\x1b[0m"), JSON.stringify(text));
  assert.ok(!text.includes("\x1b[2J"), "escape sequences from the server are shown, not obeyed");
});

Deno.test("from NARROW_BELOW cells on, squashed tables stay rich grids like the official CLI's", () => {
  const wide: TableSpec = {
    columns: RUNS.columns.concat(RUNS.columns),
    rows: RUNS.rows.map((r) => r.concat(r)),
  };
  assert.ok(renderTable(wide, { width: NARROW_BELOW, color: false }).includes("┏"));
  assert.ok(!renderTable(wide, { width: NARROW_BELOW - 1, color: false }).includes("┏"));
});

Deno.test("a grid mixes one-line rows with wrapped, cropped, wide and escaped cells", () => {
  const spec: TableSpec = {
    title:
      "A title that is longer than the table it stands above, so that it has to wrap onto a second line",
    columns: ["Name", "Kind", "Note"],
    rows: [
      ["plain", "one", "fits"],
      ["日本語の名前", "wide", "two\nlines"],
      [
        "esc\x1b[2J",
        "ctl",
        "a long note that has to wrap because it does not fit in its column at all",
      ],
      [
        "a-first-column-value-that-is-far-too-long-to-fit",
        "x",
        "nospacesatallinthisverylongwordthatcannotwrapanywhereatallsoitiscropped",
      ],
    ],
  };
  assert.deepEqual(renderTable(spec, { width: 80, color: false }).split("\n"), [
    " A title that is longer than the table it stands above, so that it has to wrap  ",
    "                               onto a second line                               ",
    "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━┳━━━━━━━━━━━━━━━━━━━━┓",
    "┃ Name                                             ┃ Kind ┃ Note               ┃",
    "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━╇━━━━━━━━━━━━━━━━━━━━┩",
    "│ plain                                            │ one  │ fits               │",
    "│ 日本語の名前                                     │ wide │ two                │",
    "│                                                  │      │ lines              │",
    "│ esc\\u001b[2J                                     │ ctl  │ a long note that   │",
    "│                                                  │      │ has to wrap        │",
    "│                                                  │      │ because it does    │",
    "│                                                  │      │ not fit in its     │",
    "│                                                  │      │ column at all      │",
    "│ a-first-column-value-that-is-far-too-long-to-fit │ x    │ nospacesatallinth… │",
    "└──────────────────────────────────────────────────┴──────┴────────────────────┘",
    "",
  ]);
});

Deno.test("columns squashed to nothing print as bare borders, coloured cells too", () => {
  const spec: TableSpec = {
    columns: ["Name", "Kind", "Note"],
    rows: [
      ["a-first-column-value-that-is-far-too-long-to-fit-even-when-the-others-shrink", "x", "y"],
      ["日本語", "x", "y"],
    ],
  };
  assert.deepEqual(renderTable(spec, { width: 80, color: true }).split("\n"), [
    "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳┳┓",
    "┃\u001b[1m Name                                                                       \u001b[0m┃┃┃",
    "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇╇┩",
    "│\u001b[96m a-first-column-value-that-is-far-too-long-to-fit-even-when-the-others-shr… \u001b[0m│││",
    "│\u001b[96m 日本語                                                                     \u001b[0m│││",
    "└────────────────────────────────────────────────────────────────────────────┴┴┘",
    "",
  ]);
});
