// The command tree of the `tinker` CLI as data: names, arguments, options
// and help text (shared by the parser and `--help`), and for each command
// the module that runs it, imported only when that command runs.

import type { Context } from "./_context.ts";

/** One option of a command. */
export interface OptionSpec {
  /** Long name without dashes (`run-id`). */
  name: string;
  /** One-letter alias. */
  short?: string;
  /** `flag` takes no value; `int` and `text` take one. */
  type: "flag" | "int" | "text";
  /** The value's name in help (`INTEGER`, `TEXT`, `PATH`). */
  metavar?: string;
  /** Allowed values (shown as `[a|b]`). */
  choices?: readonly string[];
  /** Default value of `int`/`text` options. */
  default?: string | number;
  /** The smallest value of an `int` option. */
  min?: number;
  /** Help text. */
  help: string;
}

/** One positional argument. */
export interface ArgSpec {
  /** Upper-case name as shown in usage (`RUN_ID`). */
  name: string;
  /** Whether it must be given. */
  required: boolean;
  /** Whether it takes any number of values. */
  variadic?: boolean;
}

/** Parsed options and arguments handed to a command. */
export interface Parsed {
  /** Option values by long name (`flag` → boolean, `int` → number, `text` → string). */
  options: Record<string, string | number | boolean | undefined>;
  /** Positional arguments by name; variadic ones are arrays. */
  args: Record<string, string | string[] | undefined>;
}

/** A command handler. */
export type Handler = (ctx: Context, parsed: Parsed) => Promise<void>;

/** A leaf command. */
export interface CommandSpec {
  name: string;
  /** One line for the parent's command list. */
  summary: string;
  /** Paragraphs of `--help` text (the summary is the first). */
  help?: string;
  args: ArgSpec[];
  options: OptionSpec[];
  /** Imports the handler (lazily). */
  load: () => Promise<Handler>;
}

/** A command group (`run`, `checkpoint`, …). */
export interface GroupSpec {
  name: string;
  summary: string;
  commands: CommandSpec[];
}

const LIMIT = (what: string, fallback = 20): OptionSpec => ({
  name: "limit",
  type: "int",
  metavar: "INTEGER",
  default: fallback,
  min: 0,
  help: `Maximum number of ${what} to fetch (default: ${fallback}, use --limit=0 to fetch all)`,
});
const ALL = (what: string): OptionSpec => ({
  name: "all",
  type: "flag",
  help: `Fetch every ${what}, page by page (same as --limit=0)`,
});
const PATH_ARG: ArgSpec = { name: "CHECKPOINT_PATH", required: true };
const IDLE_TIMEOUT: OptionSpec = {
  name: "idle-timeout",
  type: "int",
  metavar: "SECONDS",
  min: 1,
  help:
    "Give up when the download server sends nothing for this many seconds (default: 60), before its headers or mid-transfer",
};

/** The global options, accepted before the command (as the official CLI) or after it. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  {
    name: "format",
    short: "f",
    type: "text",
    metavar: "[table|json|jsonl]",
    choices: ["table", "json", "jsonl"],
    default: "table",
    help: "Output format (default: table); jsonl prints one JSON object per item",
  },
  {
    name: "verbose",
    type: "flag",
    help: "Show every HTTP request and the causes of errors on stderr",
  },
  {
    name: "max-retries",
    type: "int",
    metavar: "INTEGER",
    help: "Retries of a failed request (default: 5)",
  },
  {
    name: "no-cache",
    type: "flag",
    help: "Ask the server for its config, not the cache",
  },
];

/** The whole command tree. */
export const TREE: (GroupSpec | CommandSpec)[] = [
  {
    name: "auth",
    summary: "Manage authentication credentials.",
    commands: [
      {
        name: "login",
        summary: "Store an API key as the default credential.",
        help:
          "Prints the console page to create a key, reads the key (a prompt that does not echo it on a terminal, else one line of stdin), checks it with the Tinker API and stores it as the default in ~/.tinker/credentials.json (mode 0600), where the official SDK and CLI also find it.",
        args: [],
        options: [{
          name: "api-key",
          type: "text",
          metavar: "KEY",
          help:
            "The key, instead of the prompt (visible to other users in the process list; prefer stdin)",
        }],
        load: () => import("./_auth.ts").then((m) => m.login),
      },
      {
        name: "logout",
        summary: "Remove the stored default credential.",
        help:
          "Removes the default key from ~/.tinker/credentials.json. A key the CLI generated is also deleted on the server; a key you pasted stays active, and the console page to delete it is printed.",
        args: [],
        options: [],
        load: () => import("./_auth.ts").then((m) => m.logout),
      },
      {
        name: "status",
        summary: "Check that credentials are available and Tinker is reachable.",
        args: [],
        options: [],
        load: () => import("./_auth.ts").then((m) => m.status),
      },
      {
        name: "whoami",
        summary: "Show who the credential belongs to.",
        args: [],
        options: [],
        load: () => import("./_auth.ts").then((m) => m.whoami),
      },
    ],
  },
  {
    name: "billing",
    summary: "View billing usage.",
    commands: [
      {
        name: "usage",
        summary: "Show hourly billing usage for your organization.",
        help:
          "STARTING_ON and ENDING_BEFORE are RFC 3339 timestamps aligned to UTC hour boundaries (e.g. 2026-07-13T00:00:00Z), at most 14 days apart. Returns one row per (hour x usage type x base model x session x user). Session user metadata comes as a separate per-session table (JSON output / --sessions-csv) to join on session_id.\n\nRequires billing view access in your organization.",
        args: [{ name: "STARTING_ON", required: true }, { name: "ENDING_BEFORE", required: true }],
        options: [
          {
            name: "csv",
            type: "text",
            metavar: "PATH",
            help: "Write usage rows as CSV to PATH instead of table/JSON output ('-' for stdout)",
          },
          {
            name: "sessions-csv",
            type: "text",
            metavar: "PATH",
            help:
              "Also write the per-session side-table (session_id + user_metadata) as CSV to PATH ('-' for stdout); join it against the usage rows on session_id",
          },
        ],
        load: () => import("./_billing.ts").then((m) => m.usage),
      },
      {
        name: "checkpoint-storage",
        summary: "Show current checkpoint storage and its projected run rate.",
        help:
          "With no arguments, returns checkpoint storage usage for the entire authenticated organization, grouped by project and session owner. Use --project-id to limit results to one project.",
        args: [],
        options: [
          {
            name: "project-id",
            type: "text",
            metavar: "TEXT",
            help: "Only show storage in this project",
          },
          {
            name: "csv",
            type: "text",
            metavar: "PATH",
            help: "Write storage rows as CSV to PATH instead of table/JSON output ('-' for stdout)",
          },
        ],
        load: () => import("./_billing.ts").then((m) => m.checkpointStorage),
      },
    ],
  },
  {
    name: "chat",
    summary: "Chat with a base model or a sampler checkpoint (streamed).",
    help:
      "MODEL is a base model id, a sampler checkpoint (tinker://<run-id>/sampler_weights/<name>), or <base model id>;<checkpoint path>. PROMPT is read from stdin when not given. The answer streams to stdout as it is generated through Tinker's OpenAI-compatible endpoint; -f json prints the final response object instead, -f jsonl each streamed chunk.",
    args: [{ name: "MODEL", required: true }, { name: "PROMPT", required: false }],
    options: [
      { name: "system", type: "text", metavar: "TEXT", help: "A system message before the prompt" },
      { name: "max-tokens", type: "int", metavar: "INTEGER", help: "Most tokens to generate" },
      {
        name: "temperature",
        type: "text",
        metavar: "FLOAT",
        help: "Sampling temperature (0 and up)",
      },
      {
        ...IDLE_TIMEOUT,
        help:
          "Give up when the server sends nothing for this many seconds (default: 60), before the answer starts or between its tokens (-f json: for the whole answer)",
      },
    ],
    load: () => import("./_chat.ts").then((m) => m.chat),
  },
  {
    name: "checkpoint",
    summary: "Manage checkpoints.",
    commands: [
      {
        name: "delete",
        summary: "Delete one or more checkpoints permanently.",
        help: [
          "Delete by explicit paths:",
          "\b    tinker checkpoint delete tinker://run-id/weights/0001 tinker://run-id/weights/0002",
          "Delete all checkpoints for a training run:",
          "\b    tinker checkpoint delete --run-id <run-id>",
          "Delete with filters:",
          "\b    tinker checkpoint delete --run-id <run-id> --type weights --before 2024-06-01",
          "Dates are interpreted as UTC. Only the owner of the training run can delete checkpoints.",
          "WARNING: This action is permanent and cannot be undone.",
          "Exits with code 1 when any deletion failed, after listing the failures (the official CLI exits 0).",
        ].join("\n\n"),
        args: [{ name: "CHECKPOINT_PATHS", required: false, variadic: true }],
        options: [
          {
            name: "run-id",
            type: "text",
            metavar: "TEXT",
            help: "Delete all checkpoints for a training run",
          },
          {
            name: "type",
            type: "text",
            metavar: "TEXT",
            help: "Filter by type: weights, sampler_weights or external_weights",
          },
          {
            name: "before",
            type: "text",
            metavar: "TEXT",
            help:
              "Filter: created before date in UTC (ISO 8601, e.g. 2024-01-01, 2024-01-01T08:00:00Z)",
          },
          {
            name: "after",
            type: "text",
            metavar: "TEXT",
            help:
              "Filter: created after date in UTC (ISO 8601, e.g. 2024-01-01, 2024-01-01T08:00:00Z)",
          },
          { name: "yes", short: "y", type: "flag", help: "Skip confirmation prompt" },
        ],
        load: () => import("./_checkpoint.ts").then((m) => m.remove),
      },
      {
        name: "download",
        summary: "Download a training or external weights checkpoint.",
        help:
          "CHECKPOINT_PATH is a training checkpoint (tinker://run-id/weights/name) or external weights (tinker://run-id/external_weights/name); sampler checkpoints cannot be downloaded. A training checkpoint is exported through a temporary external weights checkpoint, which starts a training session on its base model; the export is deleted and the session finished afterwards, also after a failure or Ctrl-C. A server without session routes gets the archive instead. Files land in a temporary directory that is renamed to <output>/<run-id>_<kind>_<name> only when complete; temporary directories left by a killed run are removed by the next one. Download URLs from the server must be https: (or http: to this machine, or when the API itself uses http:).",
        args: [PATH_ARG],
        options: [
          {
            name: "output",
            short: "o",
            type: "text",
            metavar: "PATH",
            help: "Parent directory for the checkpoint (default: current directory)",
          },
          { name: "force", type: "flag", help: "Overwrite existing directory if it exists" },
          {
            name: "max-size",
            type: "text",
            metavar: "SIZE",
            help:
              "Refuse a checkpoint larger than this once extracted: bytes or a 1024-based unit, e.g. 500M, 20G, 1T (default: 256G)",
          },
          IDLE_TIMEOUT,
        ],
        load: () => import("./_download.ts").then((m) => m.download),
      },
      {
        name: "info",
        summary: "Show details of a specific checkpoint.",
        help: "CHECKPOINT_PATH must be a tinker path (e.g., tinker://run-id/weights/0001).",
        args: [PATH_ARG],
        options: [],
        load: () => import("./_checkpoint.ts").then((m) => m.info),
      },
      {
        name: "list",
        summary: "List checkpoints.",
        help:
          "If --run-id is provided, list checkpoints for that specific training run. Otherwise, list checkpoints from all recent runs.",
        args: [],
        options: [
          { name: "run-id", type: "text", metavar: "TEXT", help: "Training run ID" },
          {
            ...LIMIT("checkpoints"),
            help:
              "Maximum number of checkpoints to display when listing from all runs (default: 20, use --limit=0 to show all)",
          },
          ALL("checkpoint"),
        ],
        load: () => import("./_checkpoint.ts").then((m) => m.list),
      },
      {
        name: "publish",
        summary: "Publish a checkpoint to make it publicly accessible.",
        help:
          "CHECKPOINT_PATH must be a tinker path (e.g., tinker://run-id/weights/0001). Only the owner of the training run can publish checkpoints.",
        args: [PATH_ARG],
        options: [],
        load: () => import("./_checkpoint.ts").then((m) => m.publish),
      },
      {
        name: "set-ttl",
        summary: "Set or remove the TTL (time-to-live) on a checkpoint.",
        help:
          "CHECKPOINT_PATH must be a tinker path (e.g., tinker://run-id/weights/0001). Use --ttl to set an expiration (in seconds from now), or --remove to clear it.",
        args: [PATH_ARG],
        options: [
          {
            name: "ttl",
            type: "int",
            metavar: "INTEGER",
            help: "TTL in seconds (1 hour to 10 years)",
          },
          { name: "remove", type: "flag", help: "Remove the expiration from the checkpoint" },
        ],
        load: () => import("./_checkpoint.ts").then((m) => m.setTtl),
      },
      {
        name: "unpublish",
        summary: "Unpublish a checkpoint to make it private again.",
        help:
          "CHECKPOINT_PATH must be a tinker path (e.g., tinker://run-id/weights/0001). Only the owner of the training run can unpublish checkpoints.",
        args: [PATH_ARG],
        options: [],
        load: () => import("./_checkpoint.ts").then((m) => m.unpublish),
      },
    ],
  },
  {
    name: "model",
    summary: "List available models.",
    commands: [
      {
        name: "list",
        summary: "List the models your organization can use.",
        help:
          "SUBSTRING keeps only the models whose name contains it, ignoring case. Pass the name in the Model column as base_model.",
        args: [{ name: "SUBSTRING", required: false }],
        options: [{
          name: "sampleable",
          type: "flag",
          help: "List what the OpenAI-compatible endpoint serves (GET /oai/api/v1/models)",
        }],
        load: () => import("./_chat.ts").then((m) => m.modelList),
      },
    ],
  },
  {
    name: "run",
    summary: "Manage training runs.",
    commands: [
      {
        name: "info",
        summary: "Show details of a specific run.",
        args: [{ name: "RUN_ID", required: true }],
        options: [],
        load: () => import("./_run.ts").then((m) => m.info),
      },
      {
        name: "list",
        summary: "List all training runs.",
        args: [],
        options: [
          LIMIT("runs"),
          {
            name: "columns",
            short: "c",
            type: "text",
            metavar: "TEXT",
            help:
              "Columns to display (comma-separated). Available columns: id, model, owner, lora, updated, status, checkpoint, checkpoint_time. Default: id,model,lora,updated,status",
          },
          ALL("run"),
        ],
        load: () => import("./_run.ts").then((m) => m.list),
      },
    ],
  },
  {
    name: "sampler",
    summary: "Inspect samplers.",
    commands: [
      {
        name: "info",
        summary: "Show details of a sampler.",
        args: [{ name: "SAMPLER_ID", required: true }],
        options: [],
        load: () => import("./_misc.ts").then((m) => m.samplerInfo),
      },
    ],
  },
  {
    name: "session",
    summary: "Manage sessions.",
    commands: [
      {
        name: "export-trace",
        summary: "Export a session's timeline as a Perfetto trace (.pftrace).",
        help:
          "Builds a trace of the session's training and sampling requests on the server and downloads it. Open the resulting file in https://ui.perfetto.dev to view the timeline.",
        args: [{ name: "SESSION_ID", required: true }],
        options: [
          {
            name: "output",
            short: "o",
            type: "text",
            metavar: "PATH",
            help: "Output file path (default: ./<session-id>.pftrace)",
          },
          {
            name: "url-only",
            type: "flag",
            help: "Print the signed download URL instead of downloading the trace",
          },
          IDLE_TIMEOUT,
        ],
        load: () => import("./_session.ts").then((m) => m.exportTrace),
      },
      {
        name: "info",
        summary: "Show the training runs and samplers of a session.",
        args: [{ name: "SESSION_ID", required: true }],
        options: [],
        load: () => import("./_session.ts").then((m) => m.info),
      },
      {
        name: "list",
        summary: "List sessions, newest first.",
        args: [],
        options: [LIMIT("sessions"), ALL("session")],
        load: () => import("./_session.ts").then((m) => m.list),
      },
    ],
  },
  {
    name: "version",
    summary: "Show version information.",
    args: [],
    options: [],
    load: () => import("./_misc.ts").then((m) => m.version),
  },
  {
    name: "whoami",
    summary: "Show who the credential belongs to (same as auth whoami).",
    args: [],
    options: [],
    load: () => import("./_auth.ts").then((m) => m.whoami),
  },
];

/** Whether a tree node is a group. */
export function isGroup(node: GroupSpec | CommandSpec): node is GroupSpec {
  return "commands" in node;
}
