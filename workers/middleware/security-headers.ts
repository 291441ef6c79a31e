/**
 * Security headers on every response, from Hono's middleware, set for an API that serves JSON and nothing a
 * browser should render, frame or sniff. It also makes sure every response carries its X-Request-Id (see below).
 */
import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../app";

export function securityHeaders() {
  const secure = secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    crossOriginResourcePolicy: "same-origin",
    referrerPolicy: "no-referrer",
    xFrameOptions: "DENY",
    strictTransportSecurity: "max-age=31536000; includeSubDomains",
  });
  return createMiddleware<AppEnv>(async function securityHeadersMiddleware(c, next) {
    await secure(c, next);
    // Hono's requestId() sets X-Request-Id before the handler runs, as a prepared header that only c.json() and
    // c.body() apply: a handler returning its own Response (documents, queries, the feed, the key API) dropped it
    // unless an earlier middleware had touched c.res (CORS does, for requests with an Origin).
    const id = c.get("requestId");
    if (id !== undefined && !c.res.headers.has("X-Request-Id")) c.res.headers.set("X-Request-Id", id);
  });
}
