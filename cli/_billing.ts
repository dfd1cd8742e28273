// `tinker billing usage` and `tinker billing checkpoint-storage`: the
// response rendered generically as the official CLI does (JSON nested, table
// and CSV flattened, columns in first-seen order).

import type { Context } from "./_context.ts";
import {
  asFloat,
  dumpBillingEvent,
  dumpStorageItem,
  pydanticIso,
  pyJson,
  pyStr,
  type Value,
} from "./_format.ts";
import type { Handler } from "./_spec.ts";
import { inert } from "./_inert.ts";

type Row = Record<string, Value>;

const TOKEN_TYPES = new Set(["training", "sampling_prefill", "sampling_sample"]);

/** `tinker billing usage STARTING_ON ENDING_BEFORE [--csv PATH] [--sessions-csv PATH]`. */
export const usage: Handler = async (ctx, { args, options }) => {
  const rest = await ctx.client();
  const response = await rest.getBillingUsage(
    String(args.STARTING_ON),
    String(args.ENDING_BEFORE),
    { signal: ctx.signal },
  ) as unknown as {
    data: Record<string, unknown>[];
    sessions?: Record<string, { user_metadata?: Record<string, string> | null }>;
    cost_data_through?: string | null;
  };
  const rows = response.data.map((e) => dumpBillingEvent(e) as Row);
  const sessions = response.sessions ?? {};
  const csvPath = options.csv as string | undefined;
  const sessionsCsv = options["sessions-csv"] as string | undefined;
  if (sessionsCsv !== undefined) {
    const sessionRows: Row[] = Object.entries(sessions).map(([id, s]) => ({
      session_id: id,
      user_metadata: s.user_metadata == null ? null : pyJson(s.user_metadata),
    }));
    await writeCsv(ctx, sessionRows, sessionsCsv);
  }
  if (csvPath !== undefined) await writeCsv(ctx, rows.map(flatten), csvPath);
  if (csvPath !== undefined || sessionsCsv !== undefined) return;
  const display = rows.map(flatten).map(displayNulls);
  ctx.emit({
    json: {
      data: rows,
      sessions: Object.fromEntries(
        Object.entries(sessions).map((
          [id, s],
        ) => [id, { user_metadata: (s.user_metadata ?? null) as Value }]),
      ),
      cost_data_through: response.cost_data_through == null
        ? null
        : pydanticIso(response.cost_data_through),
    },
    items: rows,
    table: () => {
      const columns = columnsOf(display);
      return {
        title: rows.length === 0
          ? "No billing usage in this window"
          : `${rows.length} hourly usage row(s)`,
        columns,
        rows: display.map((r) => columns.map((c) => cell(r[c]))),
      };
    },
  });
};

/** `tinker billing checkpoint-storage [--project-id ID] [--csv PATH]`. */
export const checkpointStorage: Handler = async (ctx, { options }) => {
  const rest = await ctx.client();
  const projectId = options["project-id"] as string | undefined;
  const response = await rest.getCurrentCheckpointStorageUsage({ projectId, signal: ctx.signal });
  const rate = asFloat(response.effective_rate_usd_per_gigabyte_month);
  const data = response.data.map((i) => dumpStorageItem(i as never) as Row);
  const tableRows: Row[] = data.map((row) => ({
    effective_rate_usd_per_gigabyte_month: rate,
    ...row,
  }));
  const csvPath = options.csv as string | undefined;
  if (csvPath !== undefined) return await writeCsv(ctx, tableRows, csvPath);
  ctx.emit({
    json: { effective_rate_usd_per_gigabyte_month: rate, data },
    items: data,
    table: () => {
      const columns = columnsOf(tableRows);
      return {
        title: data.length === 0 ? "No active checkpoint storage" : "Current checkpoint storage",
        columns,
        rows: tableRows.map((r) => columns.map((c) => cell(r[c]))),
      };
    },
  });
};

/** The row with its nested `event_info` payload merged in. */
function flatten(row: Row): Row {
  const info = row.event_info;
  if (info === null || typeof info !== "object" || Array.isArray(info)) return row;
  const { event_info: _, ...rest } = row;
  return { ...rest, ...(info as Row) };
}

/** Table only: an unavailable cost or rate that applies to the row's type shows as `null`. */
function displayNulls(row: Row): Row {
  const type = row.type;
  const out = { ...row };
  const fill = (key: string) => {
    if (out[key] === null || out[key] === undefined) out[key] = "null";
  };
  if (typeof type === "string" && TOKEN_TYPES.has(type)) {
    fill("estimated_cost_usd");
    fill("effective_rate_usd_per_million_tokens");
  } else if (type === "storage") {
    fill("estimated_cost_usd");
    fill("effective_rate_usd_per_gigabyte_month");
  }
  return out;
}

function columnsOf(rows: Row[]): string[] {
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const key of Object.keys(row)) {
      if (!seen.has(key)) {
        seen.add(key);
        columns.push(key);
      }
    }
  }
  return columns;
}

/** Python `str(value)`, `None` → empty. */
function cell(value: Value | undefined): string {
  return value === null || value === undefined ? "" : pyStr(value);
}

/**
 * `csv.DictWriter` (excel dialect: CRLF, minimal quoting) to a file or `-`
 * (stdout; control characters in cells escaped when it is a terminal).
 */
async function writeCsv(ctx: Context, rows: Row[], path: string): Promise<void> {
  const columns = columnsOf(rows);
  const quote = (
    text: string,
  ) => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
  // On a terminal, cells (server text) are shown inert; files and pipes get the data as is.
  const shown = path === "-" && ctx.stdoutIsTTY ? (t: string) => inert(t, true) : (t: string) => t;
  const lines = [
    columns.map(quote).join(","),
    ...rows.map((r) => columns.map((c) => quote(shown(cell(r[c])))).join(",")),
  ];
  const text = lines.map((l) => `${l}\r\n`).join("");
  if (path === "-") {
    ctx.out(text);
    return;
  }
  const { files } = await import("./_fs.ts");
  const fs = await files();
  const target = fs.resolve(ctx.cwd, path);
  try {
    await fs.writeText(target, text);
  } catch (error) {
    throw (await import("./_fetch.ts")).saveError(error, target, {
      failure: "Failed to write CSV",
    });
  }
  ctx.err(`Wrote ${rows.length} row(s) to ${path}\n`);
}
