/**
 * The headers every answer carries: a Content-Security-Policy without inline script or style
 * (`default-src 'self'`), no framing, no MIME sniffing, no referrer, and no caching of API
 * answers.
 */

/** The page's Content-Security-Policy. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** `response` with the security headers set. */
export function withSecurityHeaders(response: Response): Response {
  const h = response.headers;
  h.set("content-security-policy", CONTENT_SECURITY_POLICY);
  h.set("x-content-type-options", "nosniff");
  h.set("x-frame-options", "DENY");
  h.set("referrer-policy", "no-referrer");
  h.set("cross-origin-opener-policy", "same-origin");
  h.set("cross-origin-resource-policy", "same-origin");
  if (!h.has("cache-control")) h.set("cache-control", "no-store");
  return response;
}
