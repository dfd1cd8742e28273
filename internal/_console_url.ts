/**
 * The Tinker console's URLs, built as SDK 0.38 builds them (its
 * `lib/console_urls.py`): no request, and the ids are put in as given, not
 * percent-encoded, as the SDK does for sessions and training runs.
 *
 * @module
 */

/** The console's origin, the SDK's `_CONSOLE_BASE_URL`. */
export const CONSOLE_BASE_URL = "https://tinker.thinkingmachines.ai";

/** The console page of one session, or of all sessions when there is none yet. */
export function sessionConsoleUrl(sessionId: string | undefined): string {
  return sessionId === undefined
    ? `${CONSOLE_BASE_URL}/sessions`
    : `${CONSOLE_BASE_URL}/sessions/${sessionId}`;
}

/** The console page of one training run (a training client's model id). */
export function trainingRunConsoleUrl(trainingRunId: string): string {
  return `${CONSOLE_BASE_URL}/training_runs/${trainingRunId}`;
}
