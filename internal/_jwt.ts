// JWT claims, decoded without checking the signature (as the official SDK does:
// the server checks it; the client only needs `exp`, `sub`, `email`, `iss`).

/** The claims of `jwt`, or `undefined` when it is not a decodable JWT. */
export function jwtClaims(jwt: string): Record<string, unknown> | undefined {
  const payload = jwt.split(".")[1];
  if (payload === undefined || !/^[A-Za-z0-9_-]+={0,2}$/.test(payload)) return undefined;
  try {
    const base64 = payload.replaceAll("-", "+").replaceAll("_", "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return claims !== null && typeof claims === "object" && !Array.isArray(claims)
      ? claims as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

/** Seconds until `jwt` expires (0 when expired, undecodable or without `exp`). */
export function secondsUntilExpiry(jwt: string, nowMs: number = Date.now()): number {
  const exp = jwtClaims(jwt)?.exp;
  return typeof exp === "number" ? Math.max(0, exp - nowMs / 1000) : 0;
}
