/** Request-level consistency: the level a read asks for, and the token a client carries between requests. */
import { type ConsistencyToken, decodeToken, emptyToken, encodeToken } from "../domain/consistency-token";
import { badRequest } from "./http/problem";

export type ReadConsistency = "strong" | "eventual";

/** `Consistency: strong | eventual` (or `?consistency=`); eventual by default. */
export function consistencyFrom(request: Request): ReadConsistency {
  // An empty header counts as absent.
  const header = request.headers.get("consistency")?.trim();
  const query = header ? null : request.url.includes("?") ? new URL(request.url).searchParams : null;
  const raw = header || query?.get("consistency") || "eventual";
  const value = raw.trim().toLowerCase();
  if (value === "strong" || value === "eventual") return value;
  throw badRequest("invalid-consistency", 'Consistency must be "strong" or "eventual"');
}

/** The Consistency-Token a request carries; undefined when it carries none, 400 when it is not one of ours. */
export function tokenFrom(headers: Headers): ConsistencyToken | undefined {
  const raw = headers.get("consistency-token");
  if (raw === null) return undefined;
  const token = decodeToken(raw.trim());
  if (token === null)
    throw badRequest("invalid-consistency-token", "Consistency-Token is not a token this service issued");
  return token;
}

export function tokenHeader(token: ConsistencyToken | undefined): Record<string, string> {
  return { "Consistency-Token": encodeToken(token ?? emptyToken()) };
}
