/** This package's version (kept equal to `deno.json`'s by a test). */
export const VERSION = "0.1.0";

/**
 * The official Python SDK release this client was last verified against on
 * the wire; sent as `sdk_version` in the bootstrap so the server resolves the
 * same feature flags for us as for that SDK.
 */
export const SDK_COMPAT_VERSION = "0.38.0";
