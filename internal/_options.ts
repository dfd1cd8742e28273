// The known keys of every options object, checked at run time: TypeScript
// catches a misspelt key only in a fresh object literal, and plain JavaScript
// never does (`{ baseURL }`, openai-node's spelling, would otherwise send the
// key to the hosted service). An unknown key throws InvalidArgumentError
// naming it and the closest known key.

import { InvalidArgumentError } from "../errors.ts";

const REQUEST = ["signal", "timeoutMs"] as const;
const PAGE = [...REQUEST, "limit", "offset", "maxPages"] as const;
const CLIENT = [
  "apiKey",
  "baseUrl",
  "maxRetries",
  "timeoutMs",
  "initialRetryDelayMs",
  "maxRetryDelayMs",
  "archivePollIntervalMs",
  "tracePollIntervalMs",
  "defaultHeaders",
  "fetch",
  "logger",
  "blocking",
  "env",
  "traceExportTimeoutMs",
  "maxResponseBytes",
  "bootstrapCache",
] as const;

/** The keys each options type accepts. */
export const KEYS = {
  client: CLIENT,
  request: REQUEST,
  accessScope: [...REQUEST, "accessScope"],
  page: PAGE,
  listTrainingRuns: [...PAGE, "accessScope", "projectId"],
  listSessions: [...PAGE, "accessScope"],
  auditLog: [...REQUEST, "eventType", "day"],
  copyWeights: [...REQUEST, "destinationProjectId", "ttlSeconds", "weightsAccessToken"],
  serviceCopyWeights: [...REQUEST, "ttlSeconds", "weightsAccessToken"],
  storageUsage: [...REQUEST, "projectId"],
  service: [
    ...CLIENT,
    "userMetadata",
    "projectId",
    "displayName",
    "tags",
    "heartbeatIntervalMs",
  ],
  future: [...REQUEST, "deadlineMs"],
  fromState: [...REQUEST, "deadlineMs", "userMetadata", "baseModel", "weightsAccessToken"],
  createLora: [
    ...REQUEST,
    "deadlineMs",
    "rank",
    "seed",
    "trainMlp",
    "trainAttn",
    "trainUnembed",
    "userMetadata",
    "optimizer",
  ],
  saveState: [...REQUEST, "deadlineMs", "ttlSeconds", "overwrite", "userMetadata"],
  loadState: [...REQUEST, "deadlineMs", "weightsAccessToken"],
  saveWeightsForSampler: [...REQUEST, "deadlineMs", "ttlSeconds", "userMetadata"],
  saveWeightsExternal: [...REQUEST, "deadlineMs", "ttlSeconds", "ageEncryptionRecipients"],
} as const satisfies Record<string, readonly string[]>;

/**
 * Throws when `options` has a key not in `known`.
 *
 * @param options The caller's options (anything: plain JavaScript can pass anything).
 * @param known The accepted keys.
 * @param what Whose options, for the message (e.g. `"getTrainingRun()"`).
 */
export function checkOptions(options: unknown, known: readonly string[], what: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new InvalidArgumentError(
      "options",
      `${what} takes an options object, got ${options === null ? "null" : typeof options}`,
    );
  }
  checkKnownKeys(options, known, (key) => key, `an option of ${what}`);
}

/**
 * Throws InvalidArgumentError for the first key of `value` not in `known`:
 * `"<key>" is not <what>`, with the closest known key (or all of them).
 *
 * @param argument The argument an unknown key is reported as.
 */
export function checkKnownKeys(
  value: object,
  known: readonly string[],
  argument: (key: string) => string,
  what: string,
): void {
  for (const key in value) {
    if (known.includes(key)) continue;
    const near = closest(key, known);
    const hint = near === undefined
      ? `; the known ones are ${known.join(", ")}`
      : `; did you mean "${near}"?`;
    throw new InvalidArgumentError(argument(key), `"${key}" is not ${what}${hint}`);
  }
}

/** The known key nearest to `key` (case-insensitive edit distance), if any is near. */
export function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of known) {
    // Near: at most a third of the longer name changed (case alone is free).
    const limit = Math.max(1, Math.floor(Math.max(key.length, candidate.length) / 3));
    const score = distance(lower, candidate.toLowerCase()) / limit;
    if (score <= 1 && score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

/** Levenshtein distance between `a` and `b`, `_` and `-` ignored. */
function distance(a: string, b: string): number {
  a = a.replace(/[_-]/g, "");
  b = b.replace(/[_-]/g, "");
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost));
    }
    previous = current;
  }
  return previous[b.length]!;
}
