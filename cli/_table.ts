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

/** Which cells of a column are {@linkcode PLAIN}, by row: `true` when all are. */
type Plain = true | boolean[];

/** Renders a table to text (every line ends with `\n`). */
export function renderTable(input: TableSpec, style: TableStyle): string {
  const n = input.columns.length;
  if (n === 0) return "\n";
  // Column-major cells (header first), made inert once; `plain` marks the
  // printable-ASCII ones, which every later step handles in one pass, and
  // `longest` is each column's longest line in cells.
  const cells: string[][] = [];
  const plain: Plain[] = [];
  const longest: number[] = [];
  for (let c = 0; c < n; c++) {
    const texts: string[] = [input.columns[c]!];
    let max = texts[0]!.length;
    for (let r = 0; r < input.rows.length; r++) {
      const text = input.rows[r]![c] ?? "";
      if (text.length > max) max = text.length;
      texts.push(text);
    }
    cells.push(texts);
    // Most columns are plain throughout: one test for all their cells.
    if (PLAIN.test(texts.join(""))) {
      plain.push(true);
      longest.push(max);
      continue;
    }
    const flags: boolean[] = [];
    max = 0;
    for (let r = 0; r < texts.length; r++) {
      let isPlain = PLAIN.test(texts[r]!);
      if (!isPlain) isPlain = PLAIN.test(texts[r] = inert(texts[r]!));
      flags.push(isPlain);
      const length = isPlain ? texts[r]!.length : measureText(texts[r]!)[1];
      if (length > max) max = length;
    }
    plain.push(flags);
    longest.push(max);
  }
  const title = input.title === undefined ? undefined : inert(input.title);
  const extra = n + 1;
  const widths = columnWidths(longest, style.width - extra);
  if (style.width < NARROW_BELOW) {
    for (let c = 0; c < n; c++) {
      if (widths[c]! - PADDING < Math.min(columnMinimum(cells[c]!, plain[c]!), READABLE_CELLS)) {
        return renderRecords(cells, title, input.keyValue === true, style);
      }
    }
  }
  const tableWidth = sum(widths) + extra;
  let out = "";
  const paint = (text: string, code: string) => style.color ? `${code}${text}${RESET}` : text;
  if (title) {
    // A title that fits is one line (what wrapping it would give).
    const lines = cellLen(title) <= tableWidth ? [title] : wrapText(title, tableWidth, true);
    for (const line of lines) out += paint(center(line, tableWidth), ITALIC) + "\n";
  }
  const rule = (l: string, fill: string, mid: string, r: string) => {
    let line = l;
    for (let c = 0; c < n; c++) line += (c ? mid : "") + fill.repeat(widths[c]!);
    return line + r + "\n";
  };
  const paintCell = (text: string, header: boolean, c: number) =>
    !style.color || widths[c] === 0
      ? text
      : header
      ? paint(text, BOLD)
      : c === 0
      ? paint(text, CYAN)
      : text;
  const renderRow = (r: number, edge: string) => {
    const header = r === 0;
    // Most rows are one line of one-line cells: drawn without the cells' line arrays.
    let line = edge;
    for (let c = 0; c < n; c++) {
      const flags = plain[c]!;
      const text = oneLine(cells[c]![r]!, flags === true || flags[r]!, widths[c]!, c === 0);
      if (text === undefined) {
        line = "";
        break;
      }
      line += (style.color ? paintCell(text, header, c) : text) + edge;
    }
    if (line) {
      out += line + "\n";
      return;
    }
    const lines: string[][] = [];
    let height = 1;
    for (let c = 0; c < n; c++) {
      const cell = cellLines(cells[c]![r]!, isPlain(plain[c]!, r), widths[c]!, c === 0);
      if (cell.length > height) height = cell.length;
      lines.push(cell);
    }
    for (let i = 0; i < height; i++) {
      let line = edge;
      for (let c = 0; c < n; c++) {
        const cell = lines[c]!;
        // Header cells align to the bottom, body cells to the top.
        const at = header ? i - (height - cell.length) : i;
        const text = at >= 0 && at < cell.length ? cell[at]! : " ".repeat(widths[c]!);
        line += paintCell(text, header, c) + edge;
      }
      out += line + "\n";
    }
  };
  out += rule("┏", "━", "┳", "┓");
  renderRow(0, "┃");
  out += rule("┡", "━", "╇", "┩");
  for (let r = 1; r <= input.rows.length; r++) renderRow(r, "│");
  return out + rule("└", "─", "┴", "┘");
}

const isPlain = (plain: Plain, row: number) => plain === true || plain[row]!;

/**
 * The cell as its only line (`width` cells, padding included) when it is a
 * single line of printable ASCII, as most are; undefined when it is not.
 * What {@linkcode cellLines} gives for such cells.
 */
function oneLine(text: string, plain: boolean, width: number, noWrap: boolean): string | undefined {
  const inner = width - PADDING;
  if (!plain || inner < 1) return undefined;
  // When it fits, wrapping leaves it whole, and so it does for a single word
  // (no space), which is then cropped with `…`.
  if (text.length <= inner) return ` ${text}${" ".repeat(inner - text.length)} `;
  if (noWrap || !text.includes(" ")) return ` ${text.slice(0, inner - 1)}… `;
  return undefined;
}

/** The lines of one cell, each exactly `width` cells wide, padding included. */
function cellLines(text: string, plain: boolean, width: number, noWrap: boolean): string[] {
  const inner = width - PADDING;
  if (inner < 1) return [];
  if (plain) {
    const line = oneLine(text, plain, width, noWrap);
    return line === undefined ? wrapPlain(text, inner) : [line];
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

/**
 * rich's column widths for columns whose longest lines are `longest` (in
 * cells): each padded, and when they do not fit in `maxWidth`, the widest
 * wrappable columns (all but the first) shrunk first, then all evenly.
 */
function columnWidths(longest: number[], maxWidth: number): number[] {
  const n = longest.length;
  const wrapable: boolean[] = [];
  let widths: number[] = [];
  for (let c = 0; c < n; c++) {
    wrapable.push(c !== 0);
    widths.push(measureColumn(longest[c]!, maxWidth) || 1);
  }
  let total = sum(widths);
  if (total > maxWidth) {
    widths = collapseWidths(widths, wrapable, maxWidth);
    total = sum(widths);
    if (total > maxWidth) {
      const ones: number[] = [];
      for (let c = 0; c < n; c++) ones.push(1);
      widths = ratioReduce(total - maxWidth, ones, widths, widths);
    }
    for (let c = 0; c < n; c++) widths[c] = measureColumn(longest[c]!, widths[c]!);
  }
  return widths;
}

/**
 * The longest word among a column's cells (rich's minimum width of the
 * column, padding excluded), or its longest line when that is shorter.
 */
function columnMinimum(column: string[], plain: Plain): number {
  let min = 0;
  for (let r = 0; r < column.length; r++) {
    const text = column[r]!;
    let textMin: number, textMax: number;
    if (isPlain(plain, r)) {
      textMax = text.length;
      textMin = longestWord(text) || textMax;
    } else {
      [textMin, textMax] = measureText(text);
    }
    if (textMin > textMax) textMin = textMax;
    if (textMin > min) min = textMin;
  }
  return min;
}

/**
 * The maximum of rich's `Measurement.get` of `Padding(Text(text), (0, 1))`
 * at `maxWidth`, over a column whose longest line is `longest` cells: that
 * clamped to `maxWidth` and padded. (The minimum, the longest word, plays
 * no part: rich reads it only to expand a table, which these never are.)
 */
function measureColumn(longest: number, maxWidth: number): number {
  if (maxWidth < 1) return 0;
  if (maxWidth - PADDING < 1) return maxWidth;
  return Math.min(longest + PADDING, maxWidth);
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
  if (!wrapable.includes(true)) return widths;
  const n = widths.length;
  while (total && excess > 0) {
    let maxColumn = -Infinity;
    for (let i = 0; i < n; i++) if (wrapable[i] && widths[i]! > maxColumn) maxColumn = widths[i]!;
    let second = -Infinity;
    for (let i = 0; i < n; i++) {
      const w = wrapable[i] && widths[i] !== maxColumn ? widths[i]! : 0;
      if (w > second) second = w;
    }
    const difference = maxColumn - second;
    const ratios: number[] = [];
    const maxReduce: number[] = [];
    for (let i = 0; i < n; i++) {
      ratios.push(widths[i] === maxColumn && wrapable[i] ? 1 : 0);
      maxReduce.push(Math.min(excess, difference));
    }
    if (!ratios.includes(1) || !difference) break;
    widths = ratioReduce(excess, ratios, maxReduce, widths);
    total = sum(widths);
    excess = total - maxWidth;
  }
  return widths;
}

function ratioReduce(
  total: number,
  ratiosIn: number[],
  maximums: number[],
  values: number[],
): number[] {
  const ratios: number[] = [];
  for (let i = 0; i < ratiosIn.length; i++) ratios.push(maximums[i] ? ratiosIn[i]! : 0);
  let totalRatio = sum(ratios);
  if (!totalRatio) return values.slice();
  let remaining = total;
  const reduced: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const ratio = ratios[i]!;
    let value = values[i]!;
    if (ratio && totalRatio > 0) {
      const distributed = Math.min(maximums[i]!, pyRound((ratio * remaining) / totalRatio));
      remaining -= distributed;
      totalRatio -= ratio;
      value -= distributed;
    }
    reduced.push(value);
  }
  return reduced;
}

/** Python's `round()`: half to even. */
function pyRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function sum(xs: number[]): number {
  let total = 0;
  for (let i = 0; i < xs.length; i++) total += xs[i]!;
  return total;
}

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
