/**
 * The projection lag as this isolate knows it: the pipeline monitor's latest measure, refreshed in the
 * background at most every REFRESH_MS, so that every write can carry it (Projection-Lag) and be refused on it
 * without a round trip of its own.
 */
import type { Context } from "hono";
import { errorText, log } from "../platform/log";
import type { AppEnv } from "./app";

const REFRESH_MS = 2_000;

let lagMs = 0;
let refreshedAt = 0;
let refreshing = false;

/** The lag last heard (0 before the first answer), asking again in the background when it is stale. */
export function projectionLag(c: Context<AppEnv>, now = Date.now()): number {
  if (!refreshing && now - refreshedAt >= REFRESH_MS) {
    refreshing = true;
    const refresh = refreshLag(c.env, now).finally(() => {
      refreshing = false;
    });
    try {
      c.executionCtx.waitUntil(refresh);
    } catch {
      // No execution context (an app driven directly): the refresh runs on its own.
    }
  }
  return lagMs;
}

/** Asks the monitor (which keeps probing while asked). */
export async function refreshLag(env: Env, now = Date.now()): Promise<number> {
  try {
    const answer = await env.PIPELINE.get(env.PIPELINE.idFromName("pipeline")).lag();
    lagMs = answer.lagMs;
    refreshedAt = now;
  } catch (error) {
    log.warn("projection lag unknown", { error: errorText(error) });
    refreshedAt = now;
  }
  return lagMs;
}
