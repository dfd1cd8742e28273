// What the benches that compare us with the SDK side by side share: running
// one side in its own process, the machine's load, and their section of
// bench/RESULTS.md, written between `<!-- section:NAME -->` markers (replaced
// in place, or appended; `bench.ts` keeps every such section when it
// rewrites the file).

const RESULTS = new URL("RESULTS.md", import.meta.url);

/** The 1-minute load average (`/proc/loadavg`), or "unknown": benches note it beside their figures. */
export function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ")[0]!;
  } catch {
    return "unknown";
  }
}

/** Writes `lines` as the section `name` of bench/RESULTS.md, then formats the file. */
export async function writeSection(name: string, lines: string[]): Promise<void> {
  const start = `<!-- section:${name} -->`;
  const end = `<!-- /section:${name} -->`;
  const section = [start, "", ...lines, "", end].join("\n");
  const text = await Deno.readTextFile(RESULTS).catch(() => "");
  const at = text.indexOf(start);
  const to = text.indexOf(end);
  const next = at >= 0 && to > at
    ? text.slice(0, at) + section + text.slice(to + end.length)
    : `${text.trimEnd()}\n\n${section}\n`;
  await Deno.writeTextFile(RESULTS, next);
  await new Deno.Command(Deno.execPath(), { args: ["fmt", RESULTS.pathname], stderr: "null" })
    .output();
}

/**
 * Runs one side of a comparison (`command` plus `input` as a JSON argument, in
 * its own process) and returns the JSON of the last line it prints.
 */
export async function runSide<T>(command: string[], input: unknown): Promise<T> {
  const out = await new Deno.Command(command[0]!, {
    args: [...command.slice(1), JSON.stringify(input)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`${command.join(" ")} failed`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!);
}
