/**
 * An unsecured JWT (`"alg":"none"`, no signature), the token Kafka's own OAUTHBEARER validator
 * (`OAuthBearerUnsecuredValidatorCallbackHandler`) accepts: the test stand-in for a real
 * OAUTHBEARER token such as MSK's IAM token, to test the SASL plumbing against a local broker.
 *
 * @example
 * ```ts
 * const token = unsecuredJwt("pipeline", { lifetimeS: 3600 });
 * ```
 */

const base64url = (text: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(text))).replaceAll("+", "-")
    .replaceAll("/", "_").replace(/=+$/, "");

/** A token for principal `sub`, valid from `now` for `lifetimeS` seconds (negative: expired). */
export function unsecuredJwt(
  sub: string,
  opts: { lifetimeS?: number; now?: number } = {},
): string {
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  const exp = iat + (opts.lifetimeS ?? 3600);
  return `${base64url(JSON.stringify({ alg: "none" }))}.${
    base64url(JSON.stringify({ sub, iat, exp }))
  }.`;
}
