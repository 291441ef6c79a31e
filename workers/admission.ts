/**
 * Admission control on projection lag: while the read side is further behind than MAX_PROJECTION_LAG_MS, writes
 * to collections that opt in (shedWhenBehind) get 503 projection-behind, with a Retry-After that grows with the
 * lag. Every write answer says the lag (Projection-Lag, in ms), so well-behaved clients slow down before that.
 * Strong and token reads are never refused on it: they do not wait for the read side.
 */
import type { Context } from "hono";
import { collectionConfig } from "../domain/collections";
import type { AppEnv } from "./app";
import { configOf } from "./config";
import { HttpProblem } from "./http/problem";
import { projectionLag } from "./pipeline-lag";

/** Retry-After for a refused write: a quarter of the lag, from 1 s to 2 minutes. */
export function retryAfterFor(lagMs: number): number {
  return Math.min(120, Math.max(1, Math.ceil(lagMs / 4000)));
}

/** Admits a write to `collections` or throws 503; returns the header every write answer carries. */
export function admit(c: Context<AppEnv>, collections: readonly string[]): { "Projection-Lag": string } {
  const lag = projectionLag(c);
  const bound = configOf(c.env).maxProjectionLagMs;
  if (lag > bound) {
    const shed = collections.find((collection) => collectionConfig(collection).shedWhenBehind === true);
    if (shed !== undefined) {
      throw new HttpProblem(
        503,
        "projection-behind",
        "Service Unavailable",
        `the read model is ${Math.round(lag / 1000)} s behind (the bound is ${Math.round(bound / 1000)} s); ` +
          `${shed} takes writes again once it catches up`,
        { lagMs: lag, boundMs: bound },
        { "Retry-After": String(retryAfterFor(lag)), "Projection-Lag": String(lag) },
      );
    }
  }
  return { "Projection-Lag": String(lag) };
}
