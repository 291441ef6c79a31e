/** The change feed: every committed version of every document, once, in feed order, with long polling. */

import { placeOf } from "../../platform/databases";
import { configOf } from "../config";
import { badRequest, HttpProblem } from "../http/problem";
import { parseWith } from "../http/validate";
import { readSegment } from "../maintenance/retention";
import { orUnavailable } from "../read-model/d1";
import { changeJson, readChanges } from "../read-model/feed-and-stats";
import { pageSize } from "../read-model/states";
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

/**
 * Feed cursors are opaque: `s`, the last sequence number in base 36, and, once the tenant has moved to another
 * database (which numbers its feed anew), `-` and the epoch it was issued in.
 */
export function encodeFeedCursor(seq: number, epoch = 0): string {
  return epoch === 0 ? `s${seq.toString(36)}` : `s${seq.toString(36)}-${epoch.toString(36)}`;
}

interface FeedCursor {
  readonly seq: number;
  readonly epoch: number;
}

function decodeFeedCursor(cursor: string | undefined): FeedCursor | null {
  if (cursor === undefined || cursor === "") return null;
  const match = /^s([0-9a-z]{1,11})(?:-([0-9a-z]{1,6}))?$/.exec(cursor);
  const seq = match === null ? Number.NaN : Number.parseInt(match[1] ?? "", 36);
  const epoch = match?.[2] === undefined ? 0 : Number.parseInt(match[2], 36);
  if (!Number.isSafeInteger(seq)) throw badRequest("invalid-cursor", "after is not a feed cursor");
  return { seq, epoch };
}

/** 410 for a cursor the feed can no longer continue, with the cursor of the feed's end to start again from. */
async function gone(db: D1Database, tenant: string, epoch: number, code: string, detail: string) {
  // The feed's end: its newest change, or, when retention has moved every change to R2, the horizon.
  const end = await db
    .prepare(
      `SELECT max(coalesce((SELECT max(seq) FROM changes INDEXED BY changes_by_tenant WHERE tenant = ?1), 0),
                  coalesce((SELECT pruned_seq FROM feed_horizons WHERE tenant = ?1), 0)) AS seq`,
    )
    .bind(tenant)
    .first<number | null>("seq");
  return new HttpProblem(
    410,
    code,
    "Gone",
    `${detail}. Read the current state (a query, or GET /v1/_export) and follow the feed from \`from\`, or read ` +
      "the feed from its beginning (leave out after)",
    { from: encodeFeedCursor(end ?? 0, epoch) },
  );
}

function feedPage(changes: readonly string[], next: string, source: "read-model" | "archive"): Response {
  return new Response(`{"changes":[${changes.join(",")}],"next":${JSON.stringify(next)}}`, {
    headers: { "Content-Type": "application/json", "Read-Source": source },
  });
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
          ...problems(400, 410, 503),
        },
      },
      needs("read"),
      async (c) => {
        const principal = tenantPrincipal(c);
        const query = parseWith(ChangesQuery, c.req.query(), "query parameter");
        if (query.collection !== undefined) checkCollection(principal, query.collection);
        const collections = query.collection === undefined ? principal.collections : [query.collection];
        const cursor = decodeFeedCursor(query.after);
        const after = cursor?.seq ?? 0;
        const limit = query.limit ?? 100;
        if (limit < 1 || limit > MAX_FEED_LIMIT)
          throw badRequest("invalid-query", `limit must be 1 to ${MAX_FEED_LIMIT}`);
        const wait = query.wait ?? 0;
        if (wait > MAX_WAIT_SECONDS)
          throw badRequest("invalid-query", `wait must be at most ${MAX_WAIT_SECONDS} seconds`);
        const deadline = clock.now() + wait * 1000;
        const tenant = principal.tenant;
        const { db, epoch } = await orUnavailable("tenant's database", () => placeOf(c.env, tenant));
        if (cursor !== null && cursor.epoch > epoch)
          throw badRequest("invalid-cursor", "after is not a feed cursor");
        if (cursor !== null && cursor.epoch < epoch) {
          throw await orUnavailable("change feed", () =>
            gone(
              db,
              tenant,
              epoch,
              "feed-moved",
              "the tenant's read model moved to another database since this cursor was issued, and its feed was numbered anew",
            ),
          );
        }
        const session = db.withSession("first-unconstrained");
        const read = await orUnavailable(
          "change feed",
          async () => {
            let interval = FIRST_POLL_MS;
            for (;;) {
              const found = await readChanges(session, { after, limit, tenant, collections });
              if (found.rows.length > 0 || found.horizon > after || clock.now() + interval > deadline)
                return found;
              await clock.sleep(interval);
              interval = Math.min(MAX_POLL_MS, interval * 2);
            }
          },
          "the change feed is unavailable; retry later",
        );
        // Behind the retention horizon: the changes are in R2 segments, served as D1 served them.
        if (read.horizon > after) {
          const segment = await orUnavailable(
            "feed segments",
            () => readSegment(c.env.ARCHIVE, { tenant, epoch, after, limit, collections }),
            "the feed's archive is unavailable; retry later",
          );
          if (segment === "expired") {
            throw await orUnavailable("change feed", () =>
              gone(
                db,
                tenant,
                epoch,
                "cursor-expired",
                "this cursor is older than the feed's retention window, and the archive no longer holds what follows it",
              ),
            );
          }
          return feedPage(segment.changes, encodeFeedCursor(segment.last, epoch), "archive");
        }
        const rows = read.rows;
        const page = rows.slice(0, pageSize(rows, limit, configOf(c.env).maxDocumentBytes));
        const changes = await orUnavailable(
          "change feed states",
          () => Promise.all(page.map((row) => changeJson(c.env.ARCHIVE, row))),
          "a state of this page could not be loaded; retry later",
        );
        return feedPage(changes, encodeFeedCursor(page.at(-1)?.seq ?? after, epoch), "read-model");
      },
    ),
  ];
}
