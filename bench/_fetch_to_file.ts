/**
 * A streamed fetch to a file: the download figure of `deno task bench` when
 * `cli.ts` is absent. `deno run -A bench/_fetch_to_file.ts <url> <file>`.
 *
 * @module
 */
const [url, file] = Deno.args;
if (!url || !file) throw new Error("usage: _fetch_to_file.ts <url> <file>");
const res = await fetch(url);
if (!res.ok || !res.body) throw new Error(`GET ${res.status}`);
await res.body.pipeTo((await Deno.open(file, { write: true, create: true })).writable);
