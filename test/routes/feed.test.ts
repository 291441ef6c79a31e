/**
 * The change feed (GET /v1/_changes): every committed version once, in feed order, with cursors that always
 * resume, a collection filter, long polling, its 400s, and idempotence when the projector sees an event again.
 * Writes reach the feed through the real queue, so every read polls until the projection shows it.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EventMessage } from "../../domain/event-message";
import type { JsonObject } from "../../domain/json";
import { createApp } from "../../workers/app";
import worker from "../../workers/index";
import {
  bearer,
  defaultCredential,
  del,
  eventually,
  get,
  getEventual,
  jsonPatch,
  mergePatch,
  problem,
  put,
  type Sent,
  send,
  uniqueId,
} from "../helpers";

interface Change {
  seq: number;
  collection: string;
  id: string;
  version: number;
  type: "put" | "patch" | "delete";
  data: Record<string, unknown> | null;
  committedAt: string;
}

interface FeedPage {
  changes: Change[];
  next: string;
}

interface HistoryEvent {
  eventId: string;
  tenant: string;
  collection: string;
  id: string;
  version: number;
  type: "put" | "patch" | "delete";
  data: JsonObject | null;
  committedAt: string;
  idempotencyKey?: string;
  txId?: string;
}

type Params = Record<string, string | number>;

const doc = (collection: string, id: string) => `/v1/${collection}/${encodeURIComponent(id)}`;

function feed(params: Params = {}): Promise<Sent> {
  const qs = new URLSearchParams(
    Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();
  return send(`/v1/_changes${qs === "" ? "" : `?${qs}`}`);
}

function pageOf(sent: Sent): FeedPage {
  expect(sent.status, JSON.stringify(sent.body)).toBe(200);
  const page = sent.body as FeedPage;
  expect(typeof page.next).toBe("string");
  return page;
}

/** Follows `next` until a page comes back empty; every page is checked for size and `next`. */
async function readAll(
  params: Params,
  limit: number,
): Promise<{ changes: Change[]; pages: FeedPage[]; next: string }> {
  const changes: Change[] = [];
  const pages: FeedPage[] = [];
  let after: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const page = pageOf(await feed({ ...params, limit, ...(after === undefined ? {} : { after }) }));
    pages.push(page);
    expect(page.changes.length).toBeLessThanOrEqual(limit);
    if (page.changes.length === 0) {
      // At the end, next stays where it was: resuming from it loses nothing.
      if (after !== undefined) expect(page.next).toBe(after);
      return { changes, pages, next: page.next };
    }
    changes.push(...page.changes);
    after = page.next;
  }
  throw new Error("more than 1000 pages");
}

const key = (c: { collection: string; id: string; version: number }) =>
  `${c.collection}/${c.id}@${c.version}`;

function expectFeedOrder(changes: Change[]): void {
  for (let i = 1; i < changes.length; i++) {
    expect((changes[i] as Change).seq).toBeGreaterThan((changes[i - 1] as Change).seq);
  }
  expect(new Set(changes.map(key)).size).toBe(changes.length);
}

/** Waits until the collection's feed holds exactly `count` changes, and returns them. */
function untilChanges(collection: string, count: number): Promise<Change[]> {
  return eventually(async () => {
    const page = pageOf(await feed({ collection, limit: 1000 }));
    expect(page.changes).toHaveLength(count);
    return page.changes;
  });
}

async function history(collection: string, id: string): Promise<HistoryEvent[]> {
  const res = await get(`${doc(collection, id)}/_history`);
  expect(res.status).toBe(200);
  return (res.body as { items: HistoryEvent[] }).items;
}

describe("GET /v1/_changes", () => {
  it("lists each committed version once, in increasing seq order, with type, data and committedAt", async () => {
    const c = uniqueId("feed");
    const [a, b] = [uniqueId("a"), uniqueId("b")];
    expect((await put(doc(c, a), { n: 1 })).status).toBe(201);
    expect((await mergePatch(doc(c, a), { m: 2 })).status).toBe(200);
    expect((await jsonPatch(doc(c, a), [{ op: "increment", path: "/n", value: 5 }])).status).toBe(200);
    expect((await del(doc(c, a))).status).toBe(204);
    expect((await put(doc(c, b), { x: "one" })).status).toBe(201);
    expect((await put(doc(c, b), { x: "two" })).status).toBe(200);

    const changes = await untilChanges(c, 6);
    expectFeedOrder(changes);
    const events = [...(await history(c, a)), ...(await history(c, b))];
    expect(events).toHaveLength(6);
    const expected = events.map((e) => ({
      collection: c,
      id: e.id,
      version: e.version,
      type: e.type,
      data: e.data,
      committedAt: e.committedAt,
    }));
    const seen = changes.map(({ seq: _seq, ...rest }) => rest);
    expect(seen.sort((x, y) => key(x).localeCompare(key(y)))).toEqual(
      expected.sort((x, y) => key(x).localeCompare(key(y))),
    );
    // The content, spelled out for the document that went through every kind of write.
    const ofA = changes.filter((ch) => ch.id === a).sort((x, y) => x.version - y.version);
    expect(ofA.map(({ version, type, data }) => ({ version, type, data }))).toEqual([
      { version: 1, type: "put", data: { n: 1 } },
      { version: 2, type: "patch", data: { n: 1, m: 2 } },
      { version: 3, type: "patch", data: { n: 6, m: 2 } },
      { version: 4, type: "delete", data: null },
    ]);
    for (const ch of changes) {
      expect(Number.isSafeInteger(ch.seq)).toBe(true);
      expect(new Date(ch.committedAt).toISOString()).toBe(ch.committedAt);
    }
  });

  it("pages with limit=2 and after=next through every change exactly once; next is there also at the end", async () => {
    const c = uniqueId("feed");
    for (let i = 0; i < 3; i++) {
      const id = uniqueId("p");
      expect((await put(doc(c, id), { i })).status).toBe(201);
      if (i !== 1) expect((await mergePatch(doc(c, id), { j: i })).status).toBe(200);
    }
    const all = await untilChanges(c, 5);

    const { changes, pages, next } = await readAll({ collection: c }, 2);
    expect(changes).toEqual(all);
    expect(pages.map((p) => p.changes.length)).toEqual([2, 2, 1, 0]);
    expect(next).toBe((pages.at(-2) as FeedPage).next);
    // After the last next: an empty page, and the same next again.
    const end = pageOf(await feed({ collection: c, after: next, limit: 2 }));
    expect(end).toEqual({ changes: [], next });
    const again = pageOf(await feed({ collection: c, after: next }));
    expect(again).toEqual({ changes: [], next });

    // The unfiltered feed pages the same way, and holds these changes among the others.
    const whole = await readAll({}, 2);
    expectFeedOrder(whole.changes);
    expect(whole.changes.filter((ch) => ch.collection === c)).toEqual(all);
    expect(pageOf(await feed({ after: whole.next }))).toEqual({ changes: [], next: whole.next });
  });

  it("with collection=c, leaves out every other collection", async () => {
    const [c1, c2] = [uniqueId("feed"), uniqueId("feed")];
    const [x, y] = [uniqueId("x"), uniqueId("y")];
    expect((await put(doc(c1, x), { in: 1 })).status).toBe(201);
    expect((await put(doc(c2, y), { in: 2 })).status).toBe(201);
    expect((await put(doc(c2, x), { in: 2 })).status).toBe(201);
    expect((await put(doc(c1, y), { in: 1 })).status).toBe(201);

    const first = await untilChanges(c1, 2);
    const second = await untilChanges(c2, 2);
    expect(first.every((ch) => ch.collection === c1 && ch.data?.in === 1)).toBe(true);
    expect(second.every((ch) => ch.collection === c2 && ch.data?.in === 2)).toBe(true);
    expect(first.map((ch) => ch.id).sort()).toEqual([x, y].sort());
    expect(second.map((ch) => ch.id).sort()).toEqual([x, y].sort());
    // Unfiltered, both are there.
    const whole = await readAll({}, 1000);
    const ours = whole.changes.filter((ch) => ch.collection === c1 || ch.collection === c2);
    expect(ours.map(key).sort()).toEqual([...first, ...second].map(key).sort());
    // A collection with no changes: empty, and next is the cursor it was given.
    expect(pageOf(await feed({ collection: uniqueId("none") }))).toEqual({ changes: [], next: "s0" });
  });

  it("long-polls: a waiting request returns the change written while it waits", {
    timeout: 60_000,
  }, async () => {
    const c = uniqueId("feed");
    const id = uniqueId("lp");
    // The end of the feed as it is now.
    const { next: end } = await readAll({}, 1000);
    // Generous wait so a slow projection cannot make the poll end empty; nothing here measures time.
    const polling = feed({ after: end, wait: 20, collection: c });
    expect((await put(doc(c, id), { hello: "world" })).status).toBe(201);
    const page = pageOf(await polling);
    expect(page.changes).toHaveLength(1);
    expect(page.changes[0]).toMatchObject({
      collection: c,
      id,
      version: 1,
      type: "put",
      data: { hello: "world" },
    });
    expect(page.next).not.toBe(end);
    // Resuming from its next finds nothing more.
    expect(pageOf(await feed({ after: page.next, collection: c }))).toEqual({ changes: [], next: page.next });
  });

  it("ends a long poll on a quiet feed empty at its deadline, asking less often as it waits (injected clock)", async () => {
    let now = 0;
    const sleeps: number[] = [];
    const app = createApp({
      clock: {
        now: () => now,
        sleep: async (ms) => {
          sleeps.push(ms);
          now += ms;
        },
      },
    });
    const quiet = uniqueId("quiet");
    const res = await app.request(
      `/v1/_changes?collection=${quiet}&wait=20&after=s0`,
      { headers: bearer(defaultCredential.key) },
      env,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ changes: [], next: "s0" });
    expect(sleeps.slice(0, 4)).toEqual([250, 500, 1000, 1000]);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(20_000);
    expect(now).toBeGreaterThan(19_000);
  });

  it("answers 400 for limit above 1000 or below 1, wait above 30, and malformed cursors", async () => {
    expect((await feed({ limit: 1000 })).status).toBe(200);
    const refused: Params[] = [
      { limit: 1001 },
      { limit: 0 },
      { limit: "ten" },
      { wait: 31 },
      { wait: -1 },
      { wait: "soon" },
      { collection: "_changes" },
    ];
    for (const params of refused) {
      const res = await feed(params);
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(problem(res)).toMatchObject({ status: 400, code: "invalid-query" });
    }
    for (const after of ["42", "s", "s!!", "x10", `s${"z".repeat(12)}`, "s-1"]) {
      const res = await feed({ after });
      expect(res.status, after).toBe(400);
      expect(problem(res)).toMatchObject({ status: 400, code: "invalid-cursor" });
    }
  });

  it("answers 405 to other methods", async () => {
    const res = await send("/v1/_changes", { method: "POST" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toContain("GET");
  });
});

describe("the projector seeing an event again", () => {
  function message(event: HistoryEvent, createdAt: string): EventMessage {
    return {
      v: 1,
      tenant: event.tenant,
      collection: event.collection,
      id: event.id,
      version: event.version,
      type: event.type,
      eventId: event.eventId,
      committedAt: Date.parse(event.committedAt),
      createdAt: Date.parse(createdAt),
      data: event.data === null ? null : JSON.stringify(event.data),
      index: [],
      ...(event.idempotencyKey === undefined ? {} : { idempotencyKey: event.idempotencyKey }),
      ...(event.txId === undefined ? {} : { txId: event.txId }),
    };
  }

  async function deliver(bodies: EventMessage[]) {
    const messages = bodies.map((body) => ({
      id: uniqueId("msg"),
      timestamp: new Date(),
      attempts: 1,
      body,
    }));
    const batch = createMessageBatch<EventMessage>("tessera-events", messages);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    return { ids: messages.map((m) => m.id), result: await getQueueResult(batch, ctx) };
  }

  it("keeps every change once in the feed, acks the duplicates, and lets no old event win", async () => {
    const c = uniqueId("dup");
    const [live, gone] = [uniqueId("live"), uniqueId("gone")];
    const created = await put(doc(c, live), { n: 1 });
    expect(created.status).toBe(201);
    expect((await mergePatch(doc(c, live), { n: 2 })).status).toBe(200);
    const goneCreated = await put(doc(c, gone), { bye: true });
    expect(goneCreated.status).toBe(201);
    expect((await del(doc(c, gone))).status).toBe(204);
    const before = await untilChanges(c, 4);

    const liveEvents = await history(c, live);
    const goneEvents = await history(c, gone);
    expect(liveEvents.map((e) => e.version)).toEqual([1, 2]);
    expect(goneEvents.map((e) => e.type)).toEqual(["put", "delete"]);
    const liveCreatedAt = (created.body as { createdAt: string }).createdAt;
    const goneCreatedAt = (goneCreated.body as { createdAt: string }).createdAt;
    const bodies = [
      ...liveEvents.map((e) => message(e, liveCreatedAt)),
      ...goneEvents.map((e) => message(e, goneCreatedAt)),
    ];
    // Every event again, newest first and then oldest: duplicates, and stale events behind newer ones.
    const { ids, result } = await deliver([...bodies].reverse());
    expect(result.outcome).toBe("ok");
    expect(result.retryBatch.retry).toBe(false);
    expect(result.retryMessages).toEqual([]);
    expect(result.ackAll || [...result.explicitAcks].sort().join() === [...ids].sort().join()).toBe(true);
    // Each alone as well, as a redelivered single message would come.
    for (const body of bodies) {
      const single = await deliver([body]);
      expect(single.result.retryMessages).toEqual([]);
      expect(single.result.ackAll || single.result.explicitAcks.includes(single.ids[0] as string)).toBe(true);
    }

    const after = pageOf(await feed({ collection: c, limit: 1000 })).changes;
    expect(after).toEqual(before);
    expect(after.map(key).sort()).toEqual(bodies.map(key).sort());
    // The documents stay at their newest version: the older put neither rolled back nor resurrected anything.
    const read = await getEventual(doc(c, live));
    expect(read.headers.get("read-source")).toBe("read-model");
    expect(read.body).toMatchObject({ version: 2, data: { n: 2 } });
    const deleted = await getEventual(doc(c, gone));
    expect(deleted.status).toBe(404);
    expect(problem(deleted).detail).toContain("(deleted)");
    // The collection query (read model only) lists the live document alone, at its newest version.
    const listed = await send(`/v1/${c}`);
    expect(listed.headers.get("read-source")).toBe("read-model");
    expect((listed.body as { items: unknown[] }).items).toEqual([read.body]);
  });
});
