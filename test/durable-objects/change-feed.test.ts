import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CHANGE_FEED_SQL, d1ChangeFeed } from "../../durable-objects/change-feed";
import { uniqueId } from "../helpers";

const feed = d1ChangeFeed(async () => env.DB);

/** Puts these versions of a fresh document straight into the change feed, as the projector would. */
async function documentWith(versions: readonly number[]) {
  const key = { tenant: "default", collection: "feedq", id: uniqueId("feed") };
  const insert = env.DB.prepare(
    `INSERT INTO changes (tenant, collection, id, version, type, event_id, data, committed_at, projected_at)
     VALUES (?, ?, ?, ?, 'put', ?, '{}', 0, 0)`,
  );
  const statements = versions.map((v) => insert.bind(key.tenant, key.collection, key.id, v, `e${v}`));
  for (let i = 0; i < statements.length; i += 100) await env.DB.batch(statements.slice(i, i + 100));
  return key;
}

/** The runs of consecutive numbers among `held` within [from, to], computed the obvious way. */
function expectedRuns(held: readonly number[], from: number, to: number): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (const v of [...new Set(held)].filter((x) => x >= from && x <= to).sort((a, b) => a - b)) {
    const last = runs.at(-1);
    if (last !== undefined && last[1] === v - 1) last[1] = v;
    else runs.push([v, v]);
  }
  return runs;
}

describe("the change feed as a document object asks it", () => {
  it("answers a range with one row per run of consecutive versions, whatever its length", async () => {
    const key = await documentWith([1, 2, 3, 5, ...Array.from({ length: 1500 }, (_, i) => i + 7)]);
    expect(await feed.runs(key, 1, 2000, 200)).toEqual([
      [1, 3],
      [5, 5],
      [7, 1506],
    ]);
    // Bounded by the range, and by the limit (the caller treats what lies past the last run as unknown).
    expect(await feed.runs(key, 2, 6, 200)).toEqual([
      [2, 3],
      [5, 5],
    ]);
    expect(await feed.runs(key, 1, 2000, 2)).toEqual([
      [1, 3],
      [5, 5],
    ]);
    expect(await feed.runs(key, 1600, 1700, 200)).toEqual([]);
  });

  it("finds exactly the runs of any set of versions (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 30 }),
        async (held, from, span) => {
          const key = await documentWith(held);
          expect(await feed.runs(key, from, from + span, 200)).toEqual(expectedRuns(held, from, from + span));
        },
      ),
      { numRuns: 25 },
    );
  });

  it("answers a list of scattered versions with those it holds", async () => {
    const key = await documentWith([2, 40, 41, 900]);
    expect(await feed.holds(key, [1, 2, 41, 900, 901])).toEqual(new Set([2, 41, 900]));
    // Another document's versions are never counted.
    const other = await documentWith([1]);
    expect(await feed.holds(other, [2, 41])).toEqual(new Set());
  });

  it("reads both answers from the (document, version) index", async () => {
    const plans = await env.DB.batch([
      env.DB.prepare(`EXPLAIN QUERY PLAN ${CHANGE_FEED_SQL.runs}`).bind("default", "feedq", "x", 1, 9, 200),
      env.DB.prepare(`EXPLAIN QUERY PLAN ${CHANGE_FEED_SQL.holds}`).bind("default", "feedq", "x", "[1]"),
    ]);
    for (const plan of plans) {
      const detail = (plan.results as Array<{ detail: string }>).map((r) => r.detail).join("\n");
      expect(detail).toMatch(/USING COVERING INDEX changes_key_version/);
    }
  });
});
