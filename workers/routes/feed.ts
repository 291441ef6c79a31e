/** The change feed: every committed version of every document, once, in feed order, with long polling. */

import { dbFor } from "../../platform/databases";
import { configOf } from "../config";
import { badRequest } from "../http/problem";
import { parseWith } from "../http/validate";
import type { ChangeRow } from "../read-model/d1";
import { orUnavailable } from "../read-model/d1";
import { readChanges } from "../read-model/feed-and-stats";
import { pageSize, stateJson } from "../read-model/states";
import { ChangesPage, ChangesQuery } from "../schemas";
import { needs } from "../security/principal";
import { checkCollection, tenantPrincipal } from "../security/tenancy";
import { JSON_TYPE, problems } from "./openapi";
import { type Route, route } from "./table";

export const MAX_FEED_LIMIT = 1000;
export const MAX_WAIT_SECONDS = 30;
/** A long poll asks D1 again after 250 ms, then less often, up to once a second. */
const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 1_000;

/** The time a long poll is measured by, and how it waits: injectable, so tests need not sleep. */
export interface PollClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: PollClock = {
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Feed cursors are opaque: `s` and the last sequence number in base 36. */
export function encodeFeedCursor(seq: number): string {
  return `s${seq.toString(36)}`;
}

function decodeFeedCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === "") return 0;
  const seq = /^s[0-9a-z]{1,11}$/.test(cursor) ? Number.parseInt(cursor.slice(1), 36) : Number.NaN;
  if (!Number.isSafeInteger(seq)) throw badRequest("invalid-cursor", "after is not a feed cursor");
  return seq;
}

/** One change as JSON text, its state spliced in as stored (never parsed and serialized again). */
async function changeJson(archive: R2Bucket, row: ChangeRow): Promise<string> {
  const head = JSON.stringify({
    seq: row.seq,
    collection: row.collection,
    id: row.id,
    version: row.version,
    type: row.type,
    committedAt: new Date(row.committed_at).toISOString(),
    ...(row.tx_id === null ? {} : { txId: row.tx_id }),
  });
  const data = row.type === "delete" ? null : await stateJson(archive, row);
  return `${head.slice(0, -1)},"data":${data ?? "null"}}`;
}

export function feedRoutes(clock: PollClock = realClock): Route[] {
  return [
    route(
      {
        operationId: "getChanges",
        method: "get",
        path: "/v1/_changes",
        summary: "The tenant's change feed, in feed order; long-polls with wait=<seconds>",
        request: { query: ChangesQuery },
        responses: {
          200: { description: "a page of changes", content: { [JSON_TYPE]: { schema: ChangesPage } } },
          ...problems(400, 503),
        },
      },
      needs("read"),
      async (c) => {
        const principal = tenantPrincipal(c);
        const query = parseWith(ChangesQuery, c.req.query(), "query parameter");
        if (query.collection !== undefined) checkCollection(principal, query.collection);
        const collections = query.collection === undefined ? principal.collections : [query.collection];
        const after = decodeFeedCursor(query.after);
        const limit = query.limit ?? 100;
        if (limit < 1 || limit > MAX_FEED_LIMIT)
          throw badRequest("invalid-query", `limit must be 1 to ${MAX_FEED_LIMIT}`);
        const wait = query.wait ?? 0;
        if (wait > MAX_WAIT_SECONDS)
          throw badRequest("invalid-query", `wait must be at most ${MAX_WAIT_SECONDS} seconds`);
        const deadline = clock.now() + wait * 1000;
        const db = await orUnavailable("tenant's database", () => dbFor(c.env, principal.tenant));
        const session = db.withSession("first-unconstrained");
        const rows = await orUnavailable(
          "change feed",
          async () => {
            let interval = FIRST_POLL_MS;
            for (;;) {
              const found = await readChanges(session, {
                after,
                limit,
                tenant: principal.tenant,
                collections,
              });
              if (found.length > 0 || clock.now() + interval > deadline) return found;
              await clock.sleep(interval);
              interval = Math.min(MAX_POLL_MS, interval * 2);
            }
          },
          "the change feed is unavailable; retry later",
        );
        const page = rows.slice(0, pageSize(rows, limit, configOf(c.env).maxDocumentBytes));
        const changes = await orUnavailable(
          "change feed states",
          () => Promise.all(page.map((row) => changeJson(c.env.ARCHIVE, row))),
          "a state of this page could not be loaded; retry later",
        );
        const next = encodeFeedCursor(page.at(-1)?.seq ?? after);
        return new Response(`{"changes":[${changes.join(",")}],"next":${JSON.stringify(next)}}`, {
          headers: { "Content-Type": "application/json", "Read-Source": "read-model" },
        });
      },
    ),
  ];
}
