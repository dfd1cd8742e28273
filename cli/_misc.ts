// `tinker version`, `model list`, `sampler info`.

import { SDK_COMPAT_VERSION, VERSION } from "../internal/_version.ts";
import { CliError, EXIT } from "./_errors.ts";
import { dumpSupportedModel, formatBool } from "./_format.ts";
import type { Handler } from "./_spec.ts";
import { propertyTable } from "./_table.ts";

/** `tinker version`: `tinker <version>` (JSON with `-f json`). */
export const version: Handler = (ctx) => {
  if (ctx.json) {
    ctx.emit({
      json: { version: VERSION, sdk_compat_version: SDK_COMPAT_VERSION, runtime: runtime() },
      table: () => ({ columns: [], rows: [] }),
    });
  } else ctx.out(`tinker ${VERSION} (TypeScript; compatible with tinker ${SDK_COMPAT_VERSION})\n`);
  return Promise.resolve();
};

function runtime(): string {
  const g = globalThis as { Deno?: { version?: { deno?: string } }; Bun?: { version?: string } };
  if (g.Deno?.version?.deno) return `deno ${g.Deno.version.deno}`;
  if (g.Bun?.version) return `bun ${g.Bun.version}`;
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return node?.versions?.node ? `node ${node.versions.node}` : "unknown";
}

/** `tinker model list [SUBSTRING]`. */
export const modelList: Handler = async (ctx, { args }) => {
  const rest = await ctx.client();
  const capabilities = await rest.getServerCapabilities({ signal: ctx.signal });
  let models = capabilities.supported_models as unknown as Record<string, unknown>[];
  const substring = args.SUBSTRING as string | undefined;
  if (substring !== undefined) {
    const needle = substring.toLowerCase();
    models = models.filter((m) =>
      typeof m.model_name === "string" && m.model_name.toLowerCase().includes(needle)
    );
    if (models.length === 0) {
      let org = "";
      try {
        const me = await rest.whoami({ signal: ctx.signal }) as { org_urn?: string };
        if (me.org_urn) org = ` for organization ${me.org_urn}`;
      } catch {
        // whoami needs a JWT; the message just leaves the organization out.
      }
      throw new CliError(
        `No model name contains '${substring}'${org}`,
        "Run 'tinker model list' to see every model this organization can use.",
        EXIT.notFound,
      );
    }
  }
  const na = (v: unknown, f: (v: unknown) => string = String) =>
    v === null || v === undefined ? "N/A" : f(v);
  ctx.emit({
    json: () => ({ models: models.map(dumpSupportedModel) }),
    items: () => models.map(dumpSupportedModel),
    table: () => ({
      columns: ["Model", "Max Context", "Trainable", "Sampleable"],
      rows: models.map((m) => [
        na(m.model_name),
        na(m.max_context_length),
        na(m.trainable, formatBool),
        na(m.sampleable, formatBool),
      ]),
    }),
  });
};

/** `tinker sampler info SAMPLER_ID`. */
export const samplerInfo: Handler = async (ctx, { args }) => {
  const rest = await ctx.client();
  const sampler = await rest.getSampler(String(args.SAMPLER_ID), { signal: ctx.signal });
  ctx.emit({
    json: {
      sampler_id: sampler.sampler_id,
      base_model: sampler.base_model,
      model_path: sampler.model_path ?? null,
    },
    table: () =>
      propertyTable(`Sampler: ${sampler.sampler_id}`, [
        ["Sampler ID", sampler.sampler_id],
        ["Base Model", sampler.base_model],
        ["Model Path", sampler.model_path ?? "N/A"],
      ]),
  });
};
