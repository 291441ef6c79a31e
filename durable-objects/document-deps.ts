/**
 * What a document object reaches outside itself, in one place so that tests and the chaos harness can replace
 * any of it on a live instance (`instance.deps.publish = ...`): the clock, the queue, R2 and the change feed.
 */
import type { Clock } from "../domain/ids";
import type { DocumentKey } from "../domain/keys";
import { dbFor } from "../platform/databases";
import { publish } from "../platform/queue";
import { d1ChangeFeed } from "./change-feed";
import type { Backlog, ChangeFeed, Publisher, StateStore } from "./outbox/outbox";

export interface DocumentDeps {
  /** The time every commit and expiry is measured by. */
  clock: Clock;
  /** How events reach the queue. */
  publish: Publisher;
  /** How large states reach R2. */
  storeState: StateStore;
  /** Where the outbox learns which of its events reached the change feed. */
  changeFeed: ChangeFeed;
  /** How long a queue send or R2 upload may take before the outbox counts it as failed. */
  sendTimeoutMs: number;
  /** Where a stuck outbox backlog is reported (D1's outbox_backlog), for /metrics and recovery. */
  reportBacklog: (key: DocumentKey, backlog: Backlog) => Promise<void>;
}

export function productionDeps(env: Env): DocumentDeps {
  return {
    clock: Date.now,
    publish: (batch) => publish(env.EVENTS, batch),
    storeState: async (key, json) => {
      await env.ARCHIVE.put(key, json, { httpMetadata: { contentType: "application/json" } });
    },
    changeFeed: d1ChangeFeed((tenant) => dbFor(env, tenant)),
    sendTimeoutMs: 10_000,
    reportBacklog: async (key, backlog) => {
      const where = [key.tenant, key.collection, key.id] as const;
      if (backlog === null) {
        await env.DB.prepare("DELETE FROM outbox_backlog WHERE tenant = ? AND collection = ? AND id = ?")
          .bind(...where)
          .run();
        return;
      }
      await env.DB.prepare(
        `INSERT INTO outbox_backlog (tenant, collection, id, events, retry_at, reported_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, collection, id) DO UPDATE SET
           events = excluded.events, retry_at = excluded.retry_at, reported_at = excluded.reported_at`,
      )
        .bind(...where, backlog.events, backlog.retryAt, Date.now())
        .run();
    },
  };
}
