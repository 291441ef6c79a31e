/** The change feed: every committed version of every document, once, in feed order, with long polling. */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { DEFAULT_TENANT } from "../../domain/keys";
import type { AppEnv } from "../app";
import { configOf } from "../config";
import { badRequest, unavailable } from "../http/problem";
import { parseWith } from "../http/validate";
import { methodNotAllowed } from "../middleware/method-not-allowed";
import { type ChangeRow, pageSize, readChanges, stateJson } from "../read-model/reader";
import { ChangesPage, ChangesQuery } from "../schemas";
import { JSON_TYPE, problems } from "./openapi";

export const MAX_FEED_LIMIT = 1000;
export const MAX_WAIT_SECONDS = 30;
/** A long poll asks D1 again after 250 ms, then less often, up to once a second. */
const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 1_000;

const route = createRoute({
  method: "get",
  path: "/v1/_changes",
  summary: "The change feed, in feed order; long-polls with wait=<seconds>",
  request: { query: ChangesQuery },
  responses: {
    200: { description: "a page of changes", content: { [JSON_TYPE]: { schema: ChangesPage } } },
    ...problems(400, 503),
  },
});

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
  });
  const data = row.type === "delete" ? null : await stateJson(archive, row);
  return `${head.slice(0, -1)},"data":${data ?? "null"}}`;
}

export function registerFeedRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerPath(route);
  app.get("/v1/_changes", async (c) => {
    const query = parseWith(ChangesQuery, c.req.query(), "query parameter");
    const after = decodeFeedCursor(query.after);
    const limit = query.limit ?? 100;
    if (limit < 1 || limit > MAX_FEED_LIMIT)
      throw badRequest("invalid-query", `limit must be 1 to ${MAX_FEED_LIMIT}`);
    const wait = query.wait ?? 0;
    if (wait > MAX_WAIT_SECONDS)
      throw badRequest("invalid-query", `wait must be at most ${MAX_WAIT_SECONDS} seconds`);
    const deadline = Date.now() + wait * 1000;
    const session = c.env.DB.withSession("first-unconstrained");
    let rows: ChangeRow[];
    let interval = FIRST_POLL_MS;
    try {
      for (;;) {
        rows = await readChanges(session, {
          after,
          limit,
          tenant: DEFAULT_TENANT,
          ...(query.collection === undefined ? {} : { collection: query.collection }),
        });
        if (rows.length > 0 || Date.now() + interval > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, interval));
        interval = Math.min(MAX_POLL_MS, interval * 2);
      }
    } catch (error) {
      console.warn(JSON.stringify({ level: "warn", msg: "change feed read failed", error: String(error) }));
      throw unavailable("read-model-unavailable", "the change feed is unavailable; retry later", 1);
    }
    const page = rows.slice(0, pageSize(rows, limit, configOf(c.env).maxDocumentBytes));
    let changes: string[];
    try {
      changes = await Promise.all(page.map((row) => changeJson(c.env.ARCHIVE, row)));
    } catch (error) {
      console.warn(JSON.stringify({ level: "warn", msg: "change feed state failed", error: String(error) }));
      throw unavailable("read-model-unavailable", "a state of this page could not be loaded; retry later", 1);
    }
    const next = encodeFeedCursor(page.at(-1)?.seq ?? after);
    return new Response(`{"changes":[${changes.join(",")}],"next":${JSON.stringify(next)}}`, {
      headers: { "Content-Type": "application/json", "Read-Source": "read-model" },
    });
  });
  app.all("/v1/_changes", methodNotAllowed(["GET", "HEAD"]));
}
