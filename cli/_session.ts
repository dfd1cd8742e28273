// `tinker session export-trace|info|list`.

import { formatSize, type Value } from "./_format.ts";
import { countTitle, walkPages } from "./_run.ts";
import type { Handler } from "./_spec.ts";
import { propertyTable } from "./_table.ts";
import {
  checkServerUrl,
  downloadToFile,
  type DownloadWords,
  idleTimeoutMs,
  pythonPath,
} from "./_fetch.ts";
import { files } from "./_fs.ts";
import { inert } from "./_inert.ts";

const TRACE_WORDS: DownloadWords = {
  label: "Downloading trace",
  failure: "Failed to download trace",
  hint:
    "The signed URL may have expired (it is valid for about an hour). Re-run the command to get a fresh one.",
};

/** `tinker session export-trace SESSION_ID [-o PATH] [--url-only]`. */
export const exportTrace: Handler = async (ctx, { args, options }) => {
  const sessionId = String(args.SESSION_ID);
  const rest = await ctx.client();
  if (!ctx.json) ctx.err(`Exporting trace for session ${sessionId} (this may take a while)...\n`);
  const idleMs = idleTimeoutMs(options["idle-timeout"]);
  const url = await rest.exportSessionTrace(sessionId, { signal: ctx.signal });
  // The same rule as for downloading it: no file: (or other) URL handed on.
  checkServerUrl(url, rest.baseUrl, TRACE_WORDS);
  if (options["url-only"]) {
    if (ctx.json) {
      ctx.emit({ json: { session_id: sessionId, url }, table: () => ({ columns: [], rows: [] }) });
    } else ctx.out(`${inert(url, true)}\n`);
    return;
  }
  const { join, resolve } = await files();
  const output = options.output as string | undefined;
  const shown = output ? pythonPath(output) : join(ctx.cwd, `${sessionId}.pftrace`);
  const target = resolve(ctx.cwd, shown);
  const written = await downloadToFile(ctx, url, target, TRACE_WORDS, { idleMs });
  const json: Record<string, Value> = { session_id: sessionId, destination: shown };
  if (written > 0) json.file_size_bytes = written;
  ctx.emit({
    json,
    table: () =>
      propertyTable(`Trace Export: ${sessionId}`, [
        ["Session ID", sessionId],
        ["Saved to", shown],
        ...(written > 0 ? [["Size", formatSize(written)]] : []),
      ]),
  });
};

/** `tinker session info SESSION_ID`: its training runs and samplers. */
export const info: Handler = async (ctx, { args }) => {
  const sessionId = String(args.SESSION_ID);
  const rest = await ctx.client();
  const session = await rest.getSession(sessionId, { signal: ctx.signal }) as {
    training_run_ids: string[];
    sampler_ids: string[];
    user_metadata?: Record<string, string> | null;
    display_name?: string | null;
  };
  const rows = [["Session ID", sessionId]];
  if (session.display_name) rows.push(["Display Name", session.display_name]);
  rows.push(["Training Runs", String(session.training_run_ids.length)]);
  for (const id of session.training_run_ids) rows.push(["  -", id]);
  rows.push(["Samplers", String(session.sampler_ids.length)]);
  for (const id of session.sampler_ids) rows.push(["  -", id]);
  if (session.user_metadata && Object.keys(session.user_metadata).length > 0) {
    rows.push(["Metadata", ""]);
    for (const [k, v] of Object.entries(session.user_metadata)) rows.push([`  - ${k}`, String(v)]);
  }
  ctx.emit({
    json: {
      session_id: sessionId,
      training_run_ids: session.training_run_ids,
      sampler_ids: session.sampler_ids,
      user_metadata: session.user_metadata ?? null,
      display_name: session.display_name ?? null,
    },
    table: () => propertyTable(`Session: ${sessionId}`, rows),
  });
};

/** `tinker session list [--limit N] [--all]`: session ids, newest first. */
export const list: Handler = async (ctx, { options }) => {
  const rest = await ctx.client();
  const limit = Math.max(0, Number(options.limit ?? 20));
  const BATCH = 100;
  let sessions: string[] = [];
  if (options.all || limit === 0) {
    ({ items: sessions } = await walkPages(
      ctx,
      rest.listSessions({ limit: BATCH, signal: ctx.signal }).pages(),
      (p) => ({ items: p.sessions, total: undefined }),
    ));
  } else {
    // No cursor: page until `limit` or a short page.
    while (sessions.length < limit) {
      const size = Math.min(BATCH, limit - sessions.length);
      const page = await rest.listSessions({
        limit: size,
        offset: sessions.length,
        signal: ctx.signal,
      });
      sessions = sessions.concat(page.sessions);
      if (page.sessions.length < size) break;
    }
  }
  const shown = sessions;
  ctx.emit({
    json: { sessions: shown },
    items: shown.map((id) => ({ session_id: id })),
    table: () => ({
      title: countTitle(shown.length, undefined, "session", "No sessions found"),
      columns: ["Session ID"],
      rows: shown.map((id) => [id]),
    }),
  });
};
