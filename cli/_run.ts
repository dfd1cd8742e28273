// `tinker run list` and `tinker run info`.

import type { TrainingRun } from "../mod.ts";
import type { Context } from "./_context.ts";
import { CliError, EXIT } from "./_errors.ts";
import { dumpTrainingRun, formatTimestamp } from "./_format.ts";
import { propertyTable } from "./_table.ts";
import type { Handler } from "./_spec.ts";

type Column = [header: string, cell: (run: TrainingRun, now: number) => string];

const COLUMNS: Record<string, Column> = {
  id: ["Run ID", (r) => r.training_run_id],
  model: ["Base Model", (r) => r.base_model],
  owner: ["Owner", (r) => r.model_owner],
  lora: [
    "LoRA",
    (r) => (r.is_lora && r.lora_rank ? `Rank ${r.lora_rank}` : r.is_lora ? "Yes" : "No"),
  ],
  updated: ["Last Update", (r, now) => formatTimestamp(r.last_request_time, now)],
  status: ["Status", (r) => (r.corrupted ? "Failed" : "OK")],
  checkpoint: ["Last Checkpoint", (r) => r.last_checkpoint?.checkpoint_id ?? "None"],
  checkpoint_time: [
    "Checkpoint Time",
    (r, now) => (r.last_checkpoint ? formatTimestamp(r.last_checkpoint.time, now) : "N/A"),
  ],
};
const DEFAULT_COLUMNS = ["id", "model", "lora", "updated", "status"];
const BATCH = 100;

/** `tinker run list [--limit N] [-c COLUMNS] [--all]`. */
export const list: Handler = async (ctx, { options }) => {
  let columns = DEFAULT_COLUMNS;
  if (options.columns) {
    columns = String(options.columns).split(",").map((c) => c.trim());
    const unknown = columns.filter((c) => !(c in COLUMNS));
    if (unknown.length) {
      throw new CliError(
        `Unknown column(s): ${unknown.join(", ")}. Available: ${Object.keys(COLUMNS).join(", ")}`,
        undefined,
        EXIT.input,
      );
    }
  }
  const limit = Math.max(0, Number(options.limit ?? 20));
  const rest = await ctx.client();
  const { items: runs, total } = options.all
    ? await walkPages(
      ctx,
      rest.listTrainingRuns({ limit: BATCH, signal: ctx.signal }).pages(),
      (p) => ({ items: p.training_runs, total: p.cursor.total_count }),
    )
    : await fetchPaged(
      ctx,
      limit,
      BATCH,
      "training runs",
      (pageLimit, offset) =>
        rest.listTrainingRuns({ limit: pageLimit, offset, signal: ctx.signal }).then((p) => ({
          items: p.training_runs,
          total: p.cursor.total_count,
        })),
    );
  const now = ctx.now();
  ctx.emit({
    json: () => ({ runs: runs.map((r) => dumpTrainingRun(r as never)) }),
    items: () => runs.map((r) => dumpTrainingRun(r as never)),
    table: () => ({
      title: countTitle(runs.length, total, "training run", "No training runs found"),
      ...cells(columns, runs, now),
    }),
  });
};

/**
 * The headers and rows of the run table. Loops rather than `map`: the first
 * use of a callback builtin costs 30-70 µs of a command's cold start.
 */
function cells(
  names: string[],
  runs: TrainingRun[],
  now: number,
): { columns: string[]; rows: string[][] } {
  const columns: string[] = [];
  for (const name of names) columns.push(COLUMNS[name]![0]);
  const rows: string[][] = [];
  for (const run of runs) {
    const row: string[] = [];
    for (const name of names) row.push(COLUMNS[name]![1](run, now));
    rows.push(row);
  }
  return { columns, rows };
}

/** `tinker run info RUN_ID`. */
export const info: Handler = async (ctx, { args }) => {
  const rest = await ctx.client();
  const run = await rest.getTrainingRun(String(args.RUN_ID), { signal: ctx.signal });
  const now = ctx.now();
  ctx.emit({
    json: dumpTrainingRun(run as never),
    table: () => propertyTable(`Training Run: ${run.training_run_id}`, runRows(run, now)),
  });
};

function runRows(run: TrainingRun, now: number): string[][] {
  const rows = [
    ["Run ID", run.training_run_id],
    ["Base Model", run.base_model],
    ["Owner", run.model_owner],
    ["LoRA", run.is_lora ? (run.lora_rank ? `Yes (Rank ${run.lora_rank})` : "Yes") : "No"],
    ["Last Update", formatTimestamp(run.last_request_time, now)],
    ["Status", run.corrupted ? "Failed" : "OK"],
  ];
  for (
    const [label, c] of [
      ["Last Training Checkpoint", run.last_checkpoint],
      ["Last Sampler Checkpoint", run.last_sampler_checkpoint],
    ] as const
  ) {
    if (!c) continue;
    rows.push([label, c.checkpoint_id]);
    rows.push(["  - Time", formatTimestamp(c.time, now)]);
    rows.push(["  - Path", c.tinker_path]);
  }
  const metadata = run.user_metadata;
  if (metadata && Object.keys(metadata).length > 0) {
    rows.push(["Metadata", ""]);
    for (const [key, value] of Object.entries(metadata)) rows.push([`  - ${key}`, String(value)]);
  }
  return rows;
}

/**
 * The most pages one listing reads: 1,000,000 runs at 100 a page, 10,000,000
 * checkpoints at 1,000. A server that never stops announcing more (or that
 * ignores the offset and repeats a page) gets a clear error, not a loop.
 */
export const MAX_PAGES = 10_000;

/** Counts the pages of one listing and notices a page that repeats the one before. */
class PageGuard {
  #what: string;
  #max: number;
  #pages = 0;
  #items = 0;
  /** The previous page, serialised only when a next page comes to compare with (most listings are one page). */
  #previous: unknown[] | string | undefined;

  constructor(what: string, max: number) {
    this.#what = what;
    this.#max = max;
  }

  /** Checks the page that just arrived. */
  check(items: unknown[]): void {
    this.#pages++;
    if (this.#pages > this.#max) {
      throw new CliError(
        `Stopped listing ${this.#what} after ${this.#max} pages (${this.#items} items): the server keeps announcing more`,
        "Use --limit to fetch fewer.",
        EXIT.error,
      );
    }
    this.#items += items.length;
    if (items.length === 0) return;
    if (this.#previous !== undefined) {
      const text = JSON.stringify(items);
      const before = typeof this.#previous === "string"
        ? this.#previous
        : JSON.stringify(this.#previous);
      if (text === before) {
        throw new CliError(
          `Stopped listing ${this.#what}: the server sent the same page twice (page ${this.#pages})`,
          "The server's paging looks broken; use --limit to fetch fewer.",
          EXIT.error,
        );
      }
      this.#previous = text;
    } else this.#previous = items;
  }
}

/**
 * The official CLI's paging: a first page of `min(batch, limit)` (or `batch`
 * when `limit` is 0 = all) tells the total; further pages of at most `batch`
 * up to `min(limit, total)`, stopping at a short page, and after `maxPages`
 * or a page that repeats the previous one (an error).
 */
export async function fetchPaged<T>(
  ctx: Context,
  limit: number,
  batch: number,
  what: string,
  page: (limit: number, offset: number) => Promise<{ items: T[]; total: number | undefined }>,
  maxPages: number = MAX_PAGES,
): Promise<{ items: T[]; total: number }> {
  const guard = new PageGuard(what, maxPages);
  const first = await page(limit > 0 ? Math.min(batch, limit) : batch, 0);
  guard.check(first.items);
  const items = [...first.items];
  const total = first.total ?? items.length;
  const target = Math.min(limit > 0 ? limit : total, total);
  if (items.length < target && ctx.format === "table") {
    ctx.out(`Fetching ${limit === 0 ? "all" : String(target)} ${what}\n`);
  }
  while (items.length < target) {
    ctx.checkInterrupted();
    const size = Math.min(batch, target - items.length);
    const next = await page(size, items.length);
    guard.check(next.items);
    items.push(...next.items);
    if (next.items.length < size) break;
  }
  return { items, total };
}

/**
 * `--all`: every page of a page future (`for await` over `.pages()`). The
 * library bounds that walk (its `maxPages`, and an error on a page that
 * repeats the previous one).
 */
export async function walkPages<P, T>(
  ctx: Context,
  pages: AsyncIterable<P>,
  read: (page: P) => { items: T[]; total: number | undefined },
): Promise<{ items: T[]; total: number }> {
  const items: T[] = [];
  let total: number | undefined;
  for await (const page of pages) {
    const { items: more, total: t } = read(page);
    items.push(...more);
    total = t ?? total;
    ctx.checkInterrupted();
  }
  return { items, total: total ?? items.length };
}

/** `No … found` / `1 thing` / `N things`, plus `(K more not shown, use --limit to see more)`. */
export function countTitle(
  count: number,
  total: number | undefined,
  noun: string,
  empty: string,
  suffix = "",
): string {
  if (count === 0) return empty;
  let title = count === 1 ? `1 ${noun}${suffix}` : `${count} ${noun}s${suffix}`;
  if (total !== undefined && total > count) {
    const more = total - count;
    title += ` (${more} more not shown, use --limit to see more)`;
  }
  return title;
}
