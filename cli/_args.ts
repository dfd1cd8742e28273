// Argument parsing (the tokens of node:util `parseArgs`, our own checks for
// click-compatible messages) and click-style `--help` text.

import { UsageError } from "./_errors.ts";
import {
  type CommandSpec,
  GLOBAL_OPTIONS,
  type GroupSpec,
  isGroup,
  type OptionSpec,
  type Parsed,
  TREE,
} from "./_spec.ts";

/** A token of node:util `parseArgs({ strict: false, tokens: true })`. */
export type ArgumentToken =
  | {
    kind: "option";
    name: string;
    rawName: string;
    index: number;
    value: string | undefined;
    inlineValue: boolean | undefined;
  }
  | { kind: "positional"; index: number; value: string }
  | { kind: "option-terminator"; index: number };

/**
 * The tokens node:util `parseArgs({ strict: false, allowPositionals: true,
 * tokens: true })` gives, by the same algorithm. (Importing node:util costs
 * Bun ~4 ms of a ~13 ms cold start.)
 */
export function argumentTokens(
  args: string[],
  options: Record<string, { type: "boolean" | "string"; short?: string }>,
): ArgumentToken[] {
  const own = (name: string) => Object.hasOwn(options, name) ? options[name] : undefined;
  const longFor = (short: string) => {
    for (const [name, option] of Object.entries(options)) {
      if (option.short === short) return name;
    }
    return short;
  };
  const isString = (short: string) => own(longFor(short))?.type === "string";
  const tokens: ArgumentToken[] = [];
  const remaining = [...args];
  let index = -1;
  let groupCount = 0;
  /** `-x` or `--name`: a string option takes the next argument as its value. */
  const pushOption = (name: string, rawName: string) => {
    let value: string | undefined;
    let inlineValue: boolean | undefined;
    if (own(name)?.type === "string" && remaining[0] !== undefined) {
      value = remaining.shift();
      inlineValue = false;
    }
    tokens.push({ kind: "option", name, rawName, index, value, inlineValue });
    if (value !== undefined) ++index;
  };
  while (remaining.length > 0) {
    const arg = remaining.shift()!;
    if (groupCount > 0) groupCount--;
    else index++;
    if (arg === "--") {
      tokens.push({ kind: "option-terminator", index });
      for (const value of remaining) tokens.push({ kind: "positional", index: ++index, value });
      break;
    }
    const short = arg.length >= 2 && arg[0] === "-" && arg[1] !== "-";
    if (short && arg.length === 2) {
      pushOption(longFor(arg[1]!), arg);
      continue;
    }
    if (short && !isString(arg[1]!)) {
      const expanded: string[] = [];
      for (let i = 1; i < arg.length; i++) {
        const letter = arg[i]!;
        if (!isString(letter) || i === arg.length - 1) expanded.push(`-${letter}`);
        else {
          expanded.push(`-${letter}${arg.slice(i + 1)}`);
          break;
        }
      }
      remaining.unshift(...expanded);
      groupCount = expanded.length;
      continue;
    }
    if (short) {
      const name = longFor(arg[1]!);
      tokens.push({
        kind: "option",
        name,
        rawName: `-${arg[1]}`,
        index,
        value: arg.slice(2),
        inlineValue: true,
      });
      continue;
    }
    if (arg.length > 2 && arg.startsWith("--")) {
      const equals = arg.indexOf("=", 3);
      if (equals < 0) {
        pushOption(arg.slice(2), arg);
      } else {
        const name = arg.slice(2, equals);
        tokens.push({
          kind: "option",
          name,
          rawName: `--${name}`,
          index,
          value: arg.slice(equals + 1),
          inlineValue: true,
        });
      }
      continue;
    }
    tokens.push({ kind: "positional", index, value: arg });
  }
  return tokens;
}

/** Global settings. */
export interface GlobalOptions {
  format: "table" | "json" | "jsonl";
  verbose: boolean;
  maxRetries: number | undefined;
  /** `--no-cache`: do not read or write the bootstrap cache. */
  noCache?: boolean;
}

/** What the command line asks for. */
export type Invocation =
  | { kind: "help"; text: string; exitCode: 0 | 2 }
  | {
    kind: "command";
    command: CommandSpec;
    /** e.g. `["run", "list"]`. */
    path: string[];
    global: GlobalOptions;
    parsed: Parsed;
  };

const HELP: OptionSpec = {
  name: "help",
  short: "h",
  type: "flag",
  help: "Show this message and exit.",
};

/** Parses `argv` (without the program name). Throws {@linkcode UsageError}. */
export function parseCommandLine(argv: string[], width = 80): Invocation {
  const global: GlobalOptions = { format: "table", verbose: false, maxRetries: undefined };
  const rootUsage = "tinker [OPTIONS] COMMAND [ARGS]...";
  let i = 0;
  // Global options before the command, as the official CLI takes them.
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    if (arg === "-h" || arg === "--help") {
      return { kind: "help", text: rootHelp(width), exitCode: 0 };
    }
    const consumed = takeGlobal(argv, i, global, rootUsage, "tinker");
    if (consumed === 0) {
      throw new UsageError(`No such option '${arg.split("=")[0]}'.`, rootUsage, "tinker");
    }
    i += consumed - 1;
  }
  const name = argv[i];
  if (name === undefined) return { kind: "help", text: rootHelp(width), exitCode: 2 };
  const node = named(TREE, name);
  if (!node) throw new UsageError(`No such command '${name}'.`, rootUsage, "tinker");
  let command: CommandSpec;
  const path = [name];
  let rest: string[];
  if (isGroup(node)) {
    const groupUsage = `tinker ${name} [OPTIONS] COMMAND [ARGS]...`;
    const sub = argv[i + 1];
    if (sub === undefined) return { kind: "help", text: groupHelp(node, width), exitCode: 2 };
    if (sub === "-h" || sub === "--help") {
      return { kind: "help", text: groupHelp(node, width), exitCode: 0 };
    }
    if (sub.startsWith("-")) {
      throw new UsageError(`No such option '${sub.split("=")[0]}'.`, groupUsage, `tinker ${name}`);
    }
    const found = named(node.commands, sub);
    if (!found) throw new UsageError(`No such command '${sub}'.`, groupUsage, `tinker ${name}`);
    command = found;
    path.push(sub);
    rest = argv.slice(i + 2);
  } else {
    command = node;
    rest = argv.slice(i + 1);
  }
  const prog = `tinker ${path.join(" ")}`;
  const usage = `${prog} ${usageTail(command)}`;
  const specs = [...command.options, ...GLOBAL_OPTIONS, HELP];
  const options: Parsed["options"] = {};
  for (const spec of command.options) {
    options[spec.name] = spec.type === "flag" ? false : spec.default;
  }
  const kinds: Record<string, { type: "boolean" | "string"; short?: string }> = {};
  for (const s of specs) {
    kinds[s.name] = { type: s.type === "flag" ? "boolean" : "string" };
    if (s.short) kinds[s.name]!.short = s.short;
  }
  const tokens = argumentTokens(rest, kinds);
  for (const t of tokens) {
    if (t.kind === "option" && t.name === "help") {
      return { kind: "help", text: commandHelp(command, prog, width), exitCode: 0 };
    }
  }
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const spec = named(specs, token.name);
    if (!spec) throw new UsageError(`No such option '${token.rawName}'.`, usage, prog);
    const shown = spec.short ? `'--${spec.name}' / '-${spec.short}'` : `'--${spec.name}'`;
    if (spec.type === "flag") {
      if (token.inlineValue) {
        throw new UsageError(`Option '--${spec.name}' does not take a value.`, usage, prog);
      }
    } else if (token.value === undefined) {
      throw new UsageError(`Option '${token.rawName}' requires an argument.`, usage, prog);
    }
    const raw = token.value;
    let value: string | number | boolean = spec.type === "flag" ? true : raw!;
    if (spec.type === "int") {
      if (!/^\s*[+-]?\d+\s*$/.test(raw!)) {
        throw new UsageError(
          `Invalid value for ${shown}: '${raw}' is not a valid integer.`,
          usage,
          prog,
        );
      }
      value = Number.parseInt(raw!, 10);
      if (spec.min !== undefined && value < spec.min) {
        throw new UsageError(
          `Invalid value for ${shown}: ${value} is not in the range x>=${spec.min}.`,
          usage,
          prog,
        );
      }
    }
    if (spec.choices && !spec.choices.includes(raw!)) {
      throw new UsageError(
        `Invalid value for ${shown}: '${raw}' is not one of ${
          spec.choices.map((c) => `'${c}'`).join(", ")
        }.`,
        usage,
        prog,
      );
    }
    if (GLOBAL_OPTIONS.includes(spec)) applyGlobal(global, spec.name, value);
    else options[spec.name] = value;
  }
  const args: Parsed["args"] = {};
  let p = 0;
  for (const arg of command.args) {
    if (arg.variadic) {
      args[arg.name] = positionals.slice(p);
      p = positionals.length;
    } else if (p < positionals.length) {
      args[arg.name] = positionals[p++];
    } else if (arg.required) {
      throw new UsageError(`Missing argument '${arg.name}'.`, usage, prog);
    }
  }
  if (p < positionals.length) {
    const extra = positionals.slice(p);
    throw new UsageError(
      `Got unexpected extra argument${extra.length > 1 ? "s" : ""} (${extra.join(" ")})`,
      usage,
      prog,
    );
  }
  return { kind: "command", command, path, global, parsed: { options, args } };
}

/** Consumes one global option at `argv[i]`; returns how many arguments it used (0: not global). */
function takeGlobal(
  argv: string[],
  i: number,
  global: GlobalOptions,
  usage: string,
  prog: string,
): number {
  const arg = argv[i]!;
  let name: string | undefined;
  let inline: string | undefined;
  if (arg.startsWith("--")) {
    const eq = arg.indexOf("=");
    name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    inline = eq < 0 ? undefined : arg.slice(eq + 1);
  } else {
    const spec = GLOBAL_OPTIONS.find((s) => s.short === arg[1]);
    name = spec?.name;
    inline = arg.length > 2 ? arg.slice(2) : undefined;
  }
  const spec = name === undefined ? undefined : named(GLOBAL_OPTIONS, name);
  if (!spec) return 0;
  const shown = spec.short ? `'--${spec.name}' / '-${spec.short}'` : `'--${spec.name}'`;
  if (spec.type === "flag") {
    if (inline !== undefined) {
      throw new UsageError(`Option '--${spec.name}' does not take a value.`, usage, prog);
    }
    applyGlobal(global, spec.name, true);
    return 1;
  }
  const value = inline ?? argv[i + 1];
  if (value === undefined) {
    throw new UsageError(`Option '${arg}' requires an argument.`, usage, prog);
  }
  if (spec.choices && !spec.choices.includes(value)) {
    throw new UsageError(
      `Invalid value for ${shown}: '${value}' is not one of ${
        spec.choices.map((c) => `'${c}'`).join(", ")
      }.`,
      usage,
      prog,
    );
  }
  if (spec.type === "int") {
    if (!/^\s*[+-]?\d+\s*$/.test(value)) {
      throw new UsageError(
        `Invalid value for ${shown}: '${value}' is not a valid integer.`,
        usage,
        prog,
      );
    }
    applyGlobal(global, spec.name, Number.parseInt(value, 10));
  } else applyGlobal(global, spec.name, value);
  return inline === undefined ? 2 : 1;
}

function applyGlobal(global: GlobalOptions, name: string, value: string | number | boolean): void {
  if (name === "format") global.format = value as GlobalOptions["format"];
  else if (name === "verbose") global.verbose = value === true;
  else if (name === "max-retries") global.maxRetries = value as number;
  else if (name === "no-cache") global.noCache = value === true;
}

// ---- help ------------------------------------------------------------------

function usageTail(command: CommandSpec): string {
  let tail = "[OPTIONS]";
  for (const a of command.args) {
    const name = a.variadic ? `${a.name}...` : a.name;
    tail += a.required ? ` ${name}` : ` [${name}]`;
  }
  return tail;
}

/**
 * The entry of `list` called `name`. (A loop, not `Array.prototype.find`:
 * parsing runs at every start, where a builtin's first call costs more than
 * the search.)
 */
function named<T extends { name: string }>(list: readonly T[], name: string): T | undefined {
  for (const entry of list) if (entry.name === name) return entry;
  return undefined;
}

function rootHelp(width: number): string {
  return [
    "Usage: tinker [OPTIONS] COMMAND [ARGS]...",
    "",
    paragraph("Tinker management CLI (TypeScript edition).", width),
    "",
    "Options:",
    definitions(
      [...GLOBAL_OPTIONS, HELP].map((o) => [optionTerm(o), o.help]),
      width,
    ),
    "",
    "Commands:",
    definitions(TREE.map((n) => [n.name, n.summary]), width),
    "",
    paragraph(
      "Environment: TINKER_API_KEY, TINKER_BASE_URL, NO_COLOR, COLUMNS. Exit codes: 0 ok, 1 API error, 2 usage, 3 auth/config, 4 not found, 5 network, 6 invalid input, 7 local/archive failure, 130 interrupted, 143 terminated (TINKER_CLI_EXIT_CODES=official: 1 for every error).",
      width,
    ),
    "",
  ].join("\n");
}

function groupHelp(group: GroupSpec, width: number): string {
  return [
    `Usage: tinker ${group.name} [OPTIONS] COMMAND [ARGS]...`,
    "",
    paragraph(group.summary, width),
    "",
    "Options:",
    definitions([[optionTerm(HELP), HELP.help]], width),
    "",
    "Commands:",
    definitions(group.commands.map((c) => [c.name, c.summary]), width),
    "",
  ].join("\n");
}

function commandHelp(command: CommandSpec, prog: string, width: number): string {
  const body = [command.summary, ...(command.help ? command.help.split("\n\n") : [])];
  return [
    `Usage: ${prog} ${usageTail(command)}`,
    "",
    ...body.flatMap((p) => [p.startsWith("\b") ? `  ${p.slice(1)}` : paragraph(p, width), ""]),
    "Options:",
    definitions(
      [...command.options, ...GLOBAL_OPTIONS, HELP].map((o) => [optionTerm(o), o.help]),
      width,
    ),
    "",
  ].join("\n");
}

function optionTerm(o: OptionSpec): string {
  const names = o.short ? `-${o.short}, --${o.name}` : `--${o.name}`;
  return o.type === "flag" ? names : `${names} ${o.metavar ?? "TEXT"}`;
}

function paragraph(text: string, width: number): string {
  return wrap(text, Math.max(20, Math.min(width, 80) - 2)).map((l) => `  ${l}`).join("\n");
}

function definitions(rows: [string, string][], width: number): string {
  const termWidth = Math.min(30, Math.max(...rows.map(([t]) => t.length)));
  const textWidth = Math.max(20, Math.min(width, 80) - termWidth - 4);
  const lines: string[] = [];
  for (const [term, help] of rows) {
    const wrapped = wrap(help, textWidth);
    if (term.length > termWidth) {
      lines.push(`  ${term}`);
      for (const l of wrapped) lines.push(`${" ".repeat(termWidth + 4)}${l}`);
      continue;
    }
    wrapped.forEach((l, k) => {
      lines.push(
        k === 0 ? `  ${term.padEnd(termWidth)}  ${l}` : `${" ".repeat(termWidth + 4)}${l}`,
      );
    });
    if (wrapped.length === 0) lines.push(`  ${term}`);
  }
  return lines.join("\n");
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
