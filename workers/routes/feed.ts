/** The change feed: every committed version of every document, once, in feed order, with long polling. */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { DEFAULT_TENANT } from "../../domain/keys";
import type { AppEnv } from "../app";
import { badRequest, unavailable } from "../http/problem";
import { jsonResponse } from "../http/render";
import { parseWith } from "../http/validate";
import { methodNotAllowed } from "../middleware/method-not-allowed";
import { type ChangeRow, loadData, readChanges } from "../read-model/reader";
import { ChangesPage, ChangesQuery } from "../schemas";
import { JSON_TYPE, problems } from "./openapi";

export const MAX_FEED_LIMIT = 1000;
export const MAX_WAIT_SECONDS = 30;
const POLL_INTERVAL_MS = 250;

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
    try {
      for (;;) {
        rows = await readChanges(session, {
          after,
          limit,
          tenant: DEFAULT_TENANT,
          ...(query.collection === undefined ? {} : { collection: query.collection }),
        });
        if (rows.length > 0 || Date.now() + POLL_INTERVAL_MS > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      }
    } catch (error) {
      console.warn(JSON.stringify({ level: "warn", msg: "change feed read failed", error: String(error) }));
      throw unavailable("read-model-unavailable", "the change feed is unavailable; retry later", 1);
    }
    const changes = await Promise.all(
      rows.map(async (row) => ({
        seq: row.seq,
        collection: row.collection,
        id: row.id,
        version: row.version,
        type: row.type,
        data: row.type === "delete" ? null : await loadData(c.env.ARCHIVE, row),
        committedAt: new Date(row.committed_at).toISOString(),
      })),
    );
    const next = encodeFeedCursor(rows.at(-1)?.seq ?? after);
    return jsonResponse({ changes, next }, 200, {});
  });
  app.all("/v1/_changes", methodNotAllowed(["GET", "HEAD"]));
}
