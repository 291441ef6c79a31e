/**
 * Security headers on every response, from Hono's middleware, set for an API that serves JSON and nothing a
 * browser should render, frame or sniff.
 */
import { secureHeaders } from "hono/secure-headers";

export function securityHeaders() {
  return secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    crossOriginResourcePolicy: "same-origin",
    referrerPolicy: "no-referrer",
    xFrameOptions: "DENY",
    strictTransportSecurity: "max-age=31536000; includeSubDomains",
  });
}
