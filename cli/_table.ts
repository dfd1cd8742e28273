// Tables drawn like the official CLI's rich `Table` (box `HEAVY_HEAD`, cell
// padding 1, bold header, italic centred title, first column bright cyan and
// never wrapped). The column-width algorithm is rich's: measure each column
// (longest word .. longest line), and when the table is wider than the
// terminal, shrink the widest wrappable columns first, then all columns
// evenly, then wrap words (cropping words that do not fit with `…`).
// Plain text unless `color` is set (the caller decides: TTY and no NO_COLOR).

import { inert } from "./_inert.ts";

/** What a table shows. */
export interface TableSpec {
  /** A centred line above the table (wrapped when wider than the table). */
  title?: string | undefined;
  /** Column headers. */
  columns: string[];
  /** Cell text, one array per row. */
  rows: string[][];
  /**
   * Rows are `[key, value]` pairs (`info` commands): in a narrow terminal
   * they print as `key: value` lines.
   */
  keyValue?: boolean | undefined;
}

/** How to draw it. */
export interface TableStyle {
  /** The terminal width in cells. */
  width: number;
  /** Whether to emit ANSI styles. */
  color: boolean;
}

const BOLD = "\x1b[1m";
const ITALIC = "\x1b[3m";
const CYAN = "\x1b[96m";
const RESET = "\x1b[0m";
const PADDING = 2;
/**
 * The narrowest a column may get (in cells, padding excluded) in a terminal
 * narrower than {@linkcode NARROW_BELOW}: below this, or below the column's
 * longest word when that is shorter, the table prints as vertical key–value
 * records (rich would shrink such columns to a few cells, or to nothing).
 */
export const READABLE_CELLS = 10;
/**
 * Terminals at least this wide always get the grid, squashed or not, exactly
 * as the official CLI draws it (80 is also the width when there is no terminal).
 */
export const NARROW_BELOW = 80;

/**
 * Printable ASCII only: one cell per character, no control characters, no
 * line breaks, and space the only whitespace. Most cells are like this, and
 * take the fast paths below (same results as the general code, in one pass).
 */
const PLAIN = /^[\x20-\x7e]*$/;

/** Renders a table to text (every line ends with `\n`). */
export function renderTable(input: TableSpec, style: TableStyle): string {
  const n = input.columns.length;
  if (n === 0) return "\n";
  // Column-major cells (header first), made inert once; `plain` marks the
  // printable-ASCII ones, which every later step handles in one pass.
  const cells: string[][] = [];
  const plain: boolean[][] = [];
  for (let c = 0; c < n; c++) {
    const texts: string[] = [];
    const flags: boolean[] = [];
    for (let r = -1; r < input.rows.length; r++) {
      let text = r < 0 ? input.columns[c]! : input.rows[r]![c] ?? "";
      let isPlain = PLAIN.test(text);
      if (!isPlain) isPlain = PLAIN.test(text = inert(text));
      texts.push(text);
      flags.push(isPlain);
    }
    cells.push(texts);
    plain.push(flags);
  }
  const title = input.title === undefined ? undefined : inert(input.title);
  const extra = n + 1;
  const longestWords: number[] = [];
  const widths = columnWidths(cells, plain, style.width - extra, longestWords);
  if (
    style.width < NARROW_BELOW &&
    widths.some((w, c) => w - PADDING < Math.min(longestWords[c]!, READABLE_CELLS))
  ) {
    return renderRecords(cells, title, input.keyValue === true, style);
  }
  const tableWidth = widths.reduce((a, b) => a + b, 0) + extra;
  const out: string[] = [];
  const paint = (text: string, code: string) => style.color ? `${code}${text}${RESET}` : text;
  if (title) {
    for (const line of wrapText(title, tableWidth, true)) {
      out.push(paint(center(line, tableWidth), ITALIC));
    }
  }
  const rule = (l: string, fill: string, mid: string, r: string) =>
    l + widths.map((w) => fill.repeat(w)).join(mid) + r;
  out.push(rule("┏", "━", "┳", "┓"));
  const renderRow = (r: number, edge: string) => {
    const header = r === 0;
    const lines: string[][] = [];
    let height = 1;
    for (let c = 0; c < n; c++) {
      const cell = cellLines(cells[c]![r]!, plain[c]![r]!, widths[c]!, c === 0);
      if (cell.length > height) height = cell.length;
      lines.push(cell);
    }
    for (let i = 0; i < height; i++) {
      let line = edge;
      for (let c = 0; c < n; c++) {
        const cell = lines[c]!;
        const w = widths[c]!;
        // Header cells align to the bottom, body cells to the top.
        const at = header ? i - (height - cell.length) : i;
        const text = at >= 0 && at < cell.length ? cell[at]! : " ".repeat(w);
        if (!style.color || w === 0) line += text;
        else line += header ? paint(text, BOLD) : c === 0 ? paint(text, CYAN) : text;
        line += edge;
      }
      out.push(line);
    }
  };
  renderRow(0, "┃");
  out.push(rule("┡", "━", "╇", "┩"));
  for (let r = 1; r <= input.rows.length; r++) renderRow(r, "│");
  out.push(rule("└", "─", "┴", "┘"));
  return out.join("\n") + "\n";
}

/** The lines of one cell, each exactly `width` cells wide, padding included. */
function cellLines(text: string, plain: boolean, width: number, noWrap: boolean): string[] {
  const inner = width - PADDING;
  if (inner < 1) return [];
  if (plain) {
    // One line; when it fits, wrapping leaves it whole, and so it does for
    // a single word (no space), which is then cropped with `…`.
    if (text.length <= inner) return [` ${text}${" ".repeat(inner - text.length)} `];
    if (noWrap || !text.includes(" ")) return [` ${text.slice(0, inner - 1)}… `];
    return wrapPlain(text, inner);
  }
  const lines: string[] = [];
  for (const line of splitLines(text)) {
    const pieces = noWrap ? [line] : wrapText(line, inner, false);
    for (const piece of pieces) lines.push(` ${truncate(piece, inner, true)} `);
  }
  return lines;
}

/**
 * `cellLines` of plain text that needs wrapping, in one pass: what
 * `wrapText(text, width, false)`, `rstripEnd` and `truncate` do, for text
 * whose only whitespace is the space and whose every character is one cell.
 */
function wrapPlain(text: string, width: number): string[] {
  const lines: string[] = [];
  const length = text.length;
  let offset = 0; // Cells used on the current line.
  let from = 0; // Where the current line starts.
  for (let pos = 0; pos < length;) {
    // A word with the spaces before and after it (`/\s*\S+\s*/y`).
    const start = pos;
    while (pos < length && text.charCodeAt(pos) === 32) pos++;
    if (pos === length) break;
    while (pos < length && text.charCodeAt(pos) !== 32) pos++;
    const wordLength = pos - start; // Without its trailing spaces.
    while (pos < length && text.charCodeAt(pos) === 32) pos++;
    if (width - offset >= wordLength) offset += pos - start;
    else if (start && (wordLength > width || offset)) {
      lines.push(plainLine(text, from, start, width));
      from = start;
      offset = pos - start;
    } else if (wordLength > width) offset = pos - start;
  }
  lines.push(plainLine(text, from, length, width));
  return lines;
}

/** One wrapped piece `text[from, to)`, its excess trailing spaces dropped, cropped or padded. */
function plainLine(text: string, from: number, to: number, width: number): string {
  let end = to;
  while (end - from > width && text.charCodeAt(end - 1) === 32) end--;
  const n = end - from;
  if (n > width) return ` ${text.slice(from, from + width - 1)}… `;
  return ` ${text.slice(from, end)}${" ".repeat(width - n)} `;
}

/** rich's `Text.split("\n", allow_blank=True)`. */
function splitLines(text: string): string[] {
  const parts = text.split("\n");
  if (parts.length > 1 && parts.at(-1) === "") parts.pop();
  return parts;
}

// ---- widths (rich `Table._calculate_column_widths`) ------------------------

type Measure = [number, number];

/**
 * What rich's column measurement needs of a column's cells: how many there
 * are, and the largest minimum (longest word) and maximum (longest line)
 * width among them. Clamping to a width is monotonic, so the column's
 * measurement at any width follows from these three numbers.
 */
interface ColumnSize {
  cells: number;
  min: number;
  max: number;
}

/**
 * A table too wide for the terminal, as vertical records: each row's first
 * cell as a heading, then `Column: value` lines; for key–value tables one
 * `key: value` line per row. Values wrap (long words fold, never cropped);
 * continuation lines are indented.
 */
function renderRecords(
  cells: string[][],
  title: string | undefined,
  keyValue: boolean,
  style: TableStyle,
): string {
  const width = Math.max(style.width, 20);
  const paint = (text: string, code: string) => style.color ? `${code}${text}${RESET}` : text;
  const out: string[] = [];
  if (title) {
    for (const line of wrapText(title, width, true)) out.push(paint(line.trimEnd(), ITALIC));
    out.push("");
  }
  const field = (indent: string, label: string, value: string, code: string) => {
    const head = `${indent}${label}:`;
    const lines = value === "" ? [] : splitLines(value);
    const room = width - cellLen(head) - 1;
    const inline = lines.length === 1 && cellLen(lines[0]!) <= room;
    out.push(inline ? `${paint(head, code)} ${lines[0]}` : paint(head, code));
    if (inline) return;
    // Under the label's text: past a sub-property's `- ` marker too.
    const lead = /^\s*(?:- )?/.exec(label)![0].length;
    const pad = indent + " ".repeat(lead + 2);
    for (const line of lines) {
      for (const piece of wrapText(line, width - pad.length, true)) out.push(pad + piece.trimEnd());
    }
  };
  const rows = cells[0]!.length;
  for (let r = 1; r < rows; r++) {
    if (keyValue) {
      field("", cells[0]![r]!, cells[1]?.[r] ?? "", CYAN);
      continue;
    }
    if (r > 1) out.push("");
    for (const line of wrapText(cells[0]![r]!, width, true)) out.push(paint(line.trimEnd(), CYAN));
    for (let c = 1; c < cells.length; c++) field("  ", cells[c]![0]!, cells[c]![r]!, BOLD);
  }
  return out.join("\n") + "\n";
}

function columnWidths(
  cells: string[][],
  plain: boolean[][],
  maxWidth: number,
  longestWords: number[] = [],
): number[] {
  const wrapable = cells.map((_, c) => c !== 0);
  // Each cell's text is measured once; the passes below only clamp numbers.
  const sizes = cells.map((column, c): ColumnSize => {
    let min = 0;
    let max = 0;
    for (let r = 0; r < column.length; r++) {
      const text = column[r]!;
      // Plain text: (longest word, length), inline; the cold loop runs for every cell.
      let textMin: number, textMax: number;
      if (plain[c]![r]!) {
        textMax = text.length;
        textMin = longestWord(text) || textMax;
      } else {
        const measure = measureText(text);
        textMin = measure[0];
        textMax = measure[1];
      }
      if (textMin > textMax) textMin = textMax;
      if (textMin > min) min = textMin;
      if (textMax > max) max = textMax;
    }
    longestWords[c] = min;
    return { cells: column.length, min, max };
  });
  let widths = sizes.map((size) => measureColumn(size, maxWidth)[1] || 1);
  let total = sum(widths);
  if (total > maxWidth) {
    widths = collapseWidths(widths, wrapable, maxWidth);
    total = sum(widths);
    if (total > maxWidth) {
      widths = ratioReduce(total - maxWidth, widths.map(() => 1), widths, widths);
    }
    widths = sizes.map((size, c) => measureColumn(size, widths[c]!)[1] || 0);
  }
  return widths;
}

/**
 * rich's `Measurement.get` of `Padding(Text(text), (0, 1))` at `maxWidth`,
 * over a column: each cell's (min, max) clamped to `maxWidth` and padded,
 * the largest taken.
 */
function measureColumn(size: ColumnSize, maxWidth: number): Measure {
  if (maxWidth < 1) return [0, 0];
  if (size.cells === 0) return [0, 0];
  if (maxWidth - PADDING < 1) return [maxWidth, maxWidth];
  return [Math.min(size.min + PADDING, maxWidth), Math.min(size.max + PADDING, maxWidth)];
}

/** The longest run of non-spaces in printable-ASCII `text`. */
function longestWord(text: string): number {
  let longest = 0;
  for (let start = 0;;) {
    const space = text.indexOf(" ", start);
    const end = space < 0 ? text.length : space;
    if (end - start > longest) longest = end - start;
    if (space < 0) return longest;
    start = space + 1;
  }
}

/** (longest word, longest line) in cells, for text that is not plain. */
function measureText(text: string): Measure {
  // Python's str.splitlines() boundaries.
  // deno-lint-ignore no-control-regex
  const lines = text.split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/).filter((l, i, all) =>
    !(i === all.length - 1 && l === "")
  );
  const maxLine = lines.length ? Math.max(...lines.map(cellLen)) : 0;
  const words = text.split(/\s+/).filter((w) => w !== "");
  const minWord = words.length ? Math.max(...words.map(cellLen)) : maxLine;
  return [minWord, maxLine];
}

function collapseWidths(input: number[], wrapable: boolean[], maxWidth: number): number[] {
  let widths = input;
  let total = sum(widths);
  let excess = total - maxWidth;
  if (!wrapable.some(Boolean)) return widths;
  while (total && excess > 0) {
    const maxColumn = Math.max(...widths.filter((_, i) => wrapable[i]));
    const second = Math.max(...widths.map((w, i) => (wrapable[i] && w !== maxColumn ? w : 0)));
    const difference = maxColumn - second;
    const ratios = widths.map((w, i) => (w === maxColumn && wrapable[i] ? 1 : 0));
    if (!ratios.some(Boolean) || !difference) break;
    const maxReduce = widths.map(() => Math.min(excess, difference));
    widths = ratioReduce(excess, ratios, maxReduce, widths);
    total = sum(widths);
    excess = total - maxWidth;
  }
  return widths;
}

function ratioReduce(total: number, ratiosIn: number[], maximums: number[], values: number[]) {
  const ratios = ratiosIn.map((r, i) => (maximums[i] ? r : 0));
  let totalRatio = sum(ratios);
  if (!totalRatio) return [...values];
  let remaining = total;
  return values.map((value, i) => {
    const ratio = ratios[i]!;
    if (ratio && totalRatio > 0) {
      const distributed = Math.min(maximums[i]!, pyRound((ratio * remaining) / totalRatio));
      remaining -= distributed;
      totalRatio -= ratio;
      return value - distributed;
    }
    return value;
  });
}

/** Python's `round()`: half to even. */
function pyRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

// ---- text (rich `Text.wrap`, `divide_line`, `truncate`) --------------------

/**
 * Word-wraps one line to `width` cells like rich: words keep their trailing
 * spaces; a word longer than the width is folded (`fold`) or left whole for
 * the caller to crop with `…`.
 */
export function wrapText(line: string, width: number, fold: boolean): string[] {
  const breaks: number[] = [];
  let offset = 0;
  const wordRe = /\s*\S+\s*/gy;
  for (let m = wordRe.exec(line); m; m = wordRe.exec(line)) {
    let start = m.index;
    const word = m[0];
    const wordLength = cellLen(word.trimEnd());
    if (width - offset >= wordLength) {
      offset += cellLen(word);
    } else if (wordLength > width) {
      if (fold) {
        const chunks = chopCells(word, width);
        chunks.forEach((chunk, i) => {
          if (start) breaks.push(start);
          if (i === chunks.length - 1) offset = cellLen(chunk);
          else start += chunk.length;
        });
      } else {
        if (start) breaks.push(start);
        offset = cellLen(word);
      }
    } else if (offset && start) {
      breaks.push(start);
      offset = cellLen(word);
    }
  }
  const pieces: string[] = [];
  let from = 0;
  for (const at of [...breaks, line.length]) {
    pieces.push(rstripEnd(line.slice(from, at), width));
    from = at;
  }
  return pieces;
}

/** Removes trailing whitespace beyond `size` characters. */
function rstripEnd(text: string, size: number): string {
  if (text.length <= size) return text;
  const ws = /\s+$/.exec(text);
  if (!ws) return text;
  return text.slice(0, text.length - Math.min(ws[0].length, text.length - size));
}

function chopCells(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = "";
  let used = 0;
  for (const ch of text) {
    const w = charWidth(ch.codePointAt(0)!);
    if (used + w > width && current !== "") {
      lines.push(current);
      current = "";
      used = 0;
    }
    current += ch;
    used += w;
  }
  if (current !== "" || lines.length === 0) lines.push(current);
  return lines;
}

/** rich `Text.truncate(width, overflow="ellipsis" | "fold", pad)`. */
function truncate(text: string, width: number, pad: boolean): string {
  const length = cellLen(text);
  let out = text;
  if (length > width) out = setCellSize(text, width - 1) + "…";
  if (pad && length < width) out = text + " ".repeat(width - length);
  return out;
}

function center(line: string, width: number): string {
  let text = line.trimEnd();
  if (cellLen(text) > width) text = setCellSize(text, width);
  const left = Math.floor((width - cellLen(text)) / 2);
  text = " ".repeat(left) + text;
  return text + " ".repeat(Math.max(0, width - cellLen(text)));
}

/** Crops or pads `text` to exactly `total` cells. */
function setCellSize(text: string, total: number): string {
  if (total <= 0) return "";
  if (PLAIN.test(text)) {
    return text.length >= total ? text.slice(0, total) : text + " ".repeat(total - text.length);
  }
  let out = "";
  let used = 0;
  for (const ch of text) {
    const w = charWidth(ch.codePointAt(0)!);
    if (used + w > total) break;
    out += ch;
    used += w;
  }
  return out + " ".repeat(total - used);
}

/** Terminal cells `text` occupies (wide East Asian characters count 2). */
export function cellLen(text: string): number {
  if (PLAIN.test(text)) return text.length;
  let n = 0;
  for (const ch of text) n += charWidth(ch.codePointAt(0)!);
  return n;
}

const WIDE: [number, number][] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

function charWidth(code: number): number {
  if (code < 0x300) return code < 0x20 || (code >= 0x7f && code < 0xa0) ? 0 : 1;
  if ((code >= 0x300 && code <= 0x36f) || code === 0x200b || code === 0x200d) return 0;
  for (const [lo, hi] of WIDE) if (code >= lo && code <= hi) return 2;
  return 1;
}

/**
 * A two-column `Property | Value` table, the shape of every `info` command.
 *
 * @param rows `[property, value]` pairs.
 */
export function propertyTable(title: string | undefined, rows: string[][]): TableSpec {
  return { title, columns: ["Property", "Value"], rows, keyValue: true };
}
