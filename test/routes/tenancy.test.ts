/**
 * Tenant isolation: tenant A writes documents (PUT, POST, patch, delete), makes a key and has a dead letter; tenant
 * B, with a key of its own and with a JWT, then tries every route with A's ids and collections. B never sees A's
 * data, counts or ids; "A's document" answers B exactly as "a document that never existed" does; B's writes to
 * A's ids make B's own documents and leave A's untouched.
 */
import { env } from "cloudflare:workers";
import { importJWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import type { EventMessage } from "../../domain/event-message";
import { QUEUES } from "../../platform/queue";
import { deliver, eventually, makeKey, problem, type Sent, send, uniqueId } from "../helpers";

const CLIENT_IP = `2001:db8:a2::${crypto.randomUUID().slice(0, 4)}`;

function as(token: string, path: string, init: RequestInit = {}): Promise<Sent> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  headers.set("cf-connecting-ip", CLIENT_IP);
  return send(path, { ...init, headers });
}

const json = (method: string, data: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(data),
});
const strong = { headers: { consistency: "strong" } };

async function jwtFor(tenant: string, scope: string): Promise<string> {
  const jwk = (JSON.parse(env.TEST_JWT_PRIVATE_KEYS) as Record<string, { kid: string }>).RS256;
  if (jwk === undefined) throw new Error("no RS256 test key");
  const key = await importJWK(jwk, "RS256");
  return new SignJWT({ tenant, scope })
    .setProtectedHeader({ alg: "RS256", kid: jwk.kid })
    .setIssuer("https://issuer.test")
    .setAudience("tessera-test")
    .setSubject(`user-of-${tenant}`)
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(key);
}

/** Tenant A's world: what B must never see. */
const A = {
  tenant: uniqueId("ta"),
  key: "",
  /** A value in every one of A's documents, so that any leak of A's data shows in a body's text. */
  mark: `a-secret-${crypto.randomUUID()}`,
  putId: uniqueId("a-put"),
  postId: "",
  goneId: uniqueId("a-gone"),
  idempotencyKey: `idem-${crypto.randomUUID()}`,
  token: "",
  madeKeyId: "",
  deadId: uniqueId("a-dead"),
};
const B = { tenant: uniqueId("tb"), key: "", jwt: "" };

/** Ids that appear nowhere: B's answers about them are the baseline that A's ids must match. */
const never = () => uniqueId("never");

/** The text of a body B received: none of A's data, ids, tenant or keys in it. */
function expectNothingOfA(sent: Sent, ...allowedIds: string[]): void {
  let text = JSON.stringify(sent.body) + [...sent.headers].map(([k, v]) => `${k}:${v}`).join("\n");
  for (const id of allowedIds) text = text.replaceAll(id, "<asked>");
  for (const secret of [A.mark, A.tenant, A.putId, A.postId, A.goneId, A.madeKeyId, A.deadId, A.key]) {
    expect(text).not.toContain(secret);
  }
}

/** B's answer about A's `id` equals its answer about an id that never existed (the id itself aside). */
async function expectSameAsNeverExisted(
  request: (id: string) => Promise<Sent>,
  id: string,
  status: number,
  code: string,
): Promise<void> {
  const nobody = never();
  const [theirs, baseline] = [await request(id), await request(nobody)];
  expect(theirs.status).toBe(status);
  expect(problem(theirs).code).toBe(code);
  expect([baseline.status, problem(baseline).code]).toEqual([status, code]);
  const normalize = (sent: Sent, asked: string) =>
    JSON.parse(
      JSON.stringify(sent.body).replaceAll(encodeURIComponent(asked), "<id>").replaceAll(asked, "<id>"),
    );
  expect(normalize(theirs, id)).toEqual(normalize(baseline, nobody));
  const headerNames = (sent: Sent) =>
    [...sent.headers.keys()].filter((k) => !["x-request-id", "content-length", "date"].includes(k)).sort();
  expect(headerNames(theirs)).toEqual(headerNames(baseline));
  expectNothingOfA(theirs, id);
}

beforeAll(async () => {
  A.key = await makeKey({ tenant: A.tenant, name: "a's everything" });
  B.key = await makeKey({ tenant: B.tenant, name: "b's everything" });
  B.jwt = await jwtFor(B.tenant, "read write admin");

  const put = await as(
    A.key,
    `/v1/todos/${A.putId}`,
    json("PUT", { title: A.mark, owner: A.mark, status: "open" }),
  );
  expect(put.status).toBe(201);
  const posted = await as(
    A.key,
    "/v1/todos",
    json("POST", { title: A.mark, owner: A.mark, priority: 3 }, { "idempotency-key": A.idempotencyKey }),
  );
  expect(posted.status).toBe(201);
  A.postId = (posted.body as { id: string }).id;
  const patched = await as(A.key, `/v1/todos/${A.putId}`, {
    method: "PATCH",
    headers: { "content-type": "application/merge-patch+json" },
    body: JSON.stringify({ status: "doing" }),
  });
  expect(patched.status).toBe(200);
  A.token = patched.headers.get("consistency-token") ?? "";
  expect((await as(A.key, `/v1/notes/${A.goneId}`, json("PUT", { note: A.mark }))).status).toBe(201);
  expect((await as(A.key, `/v1/notes/${A.goneId}`, { method: "DELETE" })).status).toBe(204);
  const made = await as(
    A.key,
    "/v1/_admin/keys",
    json("POST", { tenant: A.tenant, scopes: ["read"], name: A.mark }),
  );
  expect(made.status).toBe(201);
  A.madeKeyId = (made.body as { id: string }).id;
  const dead: EventMessage = {
    v: 1,
    tenant: A.tenant,
    collection: "todos",
    id: A.deadId,
    version: 1,
    type: "put",
    eventId: `e-${A.deadId}`,
    committedAt: Date.now(),
    createdAt: Date.now(),
    data: JSON.stringify({ title: A.mark }),
    index: [],
  };
  expect((await deliver(QUEUES.deadLetters, [dead], 6)).acked).toEqual([0]);

  // The projector has caught up on all of A's writes: every read below that shows B nothing means isolation, not lag.
  await eventually(async () => {
    const feed = await as(A.key, "/v1/_changes?after=s0");
    expect((feed.body as { changes: unknown[] }).changes).toHaveLength(5);
    const stats = await as(A.key, "/v1/_stats");
    expect(stats.body).toMatchObject({ documents: 2, eventsProjected: 5, deadLettersPending: 1 });
    const read = await as(A.key, `/v1/todos/${A.putId}`);
    expect(read.headers.get("read-source")).toBe("read-model");
    expect(read.body).toMatchObject({ version: 2, data: { status: "doing" } });
  });
  const query = await as(A.key, `/v1/todos?where[owner]=${A.mark}`);
  expect((query.body as { items: unknown[] }).items).toHaveLength(2);
});

describe("tenant B, with A's ids", () => {
  it("gets 404 for A's documents at every read level, as for a document that never existed", async () => {
    for (const id of [A.putId, A.postId]) {
      await expectSameAsNeverExisted((i) => as(B.key, `/v1/todos/${i}`), id, 404, "not-found");
      await expectSameAsNeverExisted((i) => as(B.key, `/v1/todos/${i}`, strong), id, 404, "not-found");
      await expectSameAsNeverExisted((i) => as(B.key, `/v1/todos/${i}?version=1`), id, 404, "not-found");
      await expectSameAsNeverExisted(
        (i) => as(B.key, `/v1/todos/${i}`, { headers: { "consistency-token": A.token } }),
        id,
        404,
        "not-found",
      );
      await expectSameAsNeverExisted((i) => as(B.key, `/v1/todos/${i}/_history`), id, 404, "not-found");
    }
    // A deleted document of A's is not "deleted" for B: it never existed there.
    await expectSameAsNeverExisted((i) => as(B.key, `/v1/notes/${i}`), A.goneId, 404, "not-found");
    await expectSameAsNeverExisted((i) => as(B.key, `/v1/notes/${i}`, strong), A.goneId, 404, "not-found");
    await expectSameAsNeverExisted((i) => as(B.key, `/v1/notes/${i}/_history`), A.goneId, 404, "not-found");
  });

  it("finds none of A's documents in queries, with or without filters, order or A's field values", async () => {
    for (const query of [
      "/v1/todos",
      `/v1/todos?where[owner]=${A.mark}`,
      "/v1/todos?where[status]=doing",
      "/v1/todos?where[priority][gte]=0",
      "/v1/todos?order=-priority&limit=200",
      `/v1/todos?where[owner][prefix]=a-secret`,
      "/v1/notes",
    ]) {
      const sent = await as(B.key, query);
      expect(sent.status, query).toBe(200);
      expect(sent.body, query).toEqual({ items: [], next: null });
      expectNothingOfA(sent);
    }
  });

  it("sees an empty change feed, with and without a collection, from the start", async () => {
    for (const query of ["", "?after=s0", "?collection=todos", "?collection=notes&after=s0", "?limit=1000"]) {
      const sent = await as(B.key, `/v1/_changes${query}`);
      expect(sent.status, query).toBe(200);
      expect(sent.body, query).toEqual({ changes: [], next: "s0" });
      expectNothingOfA(sent);
    }
  });

  it("sees its own statistics only: no documents, events or dead letters; naming A's tenant is 403", async () => {
    const named = await as(B.key, `/v1/_stats?tenant=${A.tenant}`);
    expect(named.status).toBe(403);
    expectNothingOfA(named, A.tenant);
    for (const query of [""]) {
      const sent = await as(B.key, `/v1/_stats${query}`);
      expect(sent.status).toBe(200);
      expect(sent.body).toMatchObject({
        lagMs: { p50: null, p99: null, window: 0 },
        eventsProjected: 0,
        deadLettersPending: 0,
        documents: 0,
      });
      // Whatever else it counts (held events, ...), B has none of it.
      for (const [name, value] of Object.entries(sent.body as Record<string, unknown>)) {
        if (typeof value === "number") expect(value, name).toBe(0);
      }
    }
  });

  it("sees none of A's dead letters, and its redrive leaves them pending", async () => {
    const sent = await as(B.key, "/v1/_admin/dead-letters");
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({ items: [], next: null });
    for (const [path, method] of [
      [`/v1/_admin/dead-letters?tenant=${A.tenant}`, "GET"],
      [`/v1/_admin/dead-letters/redrive?tenant=${A.tenant}`, "POST"],
    ] as const) {
      const named = await as(B.key, path, { method });
      expect(named.status, path).toBe(403);
      expectNothingOfA(named, A.tenant);
    }
    const redrive = await as(B.key, "/v1/_admin/dead-letters/redrive", { method: "POST" });
    expect(redrive.status).toBe(200);
    expect(redrive.body).toEqual({ redriven: 0, remaining: 0 });
    const theirs = await as(A.key, "/v1/_admin/dead-letters");
    expect((theirs.body as { items: Array<{ body: { id: string } }> }).items.map((i) => i.body.id)).toEqual([
      A.deadId,
    ]);
  });

  it("lists only its own keys, cannot list, create or revoke A's, and A's keys keep working", async () => {
    const listed = await as(B.key, "/v1/_admin/keys");
    expect(listed.status).toBe(200);
    expect((listed.body as { items: Array<{ tenant: string }> }).items.map((k) => k.tenant)).toEqual([
      B.tenant,
    ]);
    expectNothingOfA(listed);
    const named = await as(B.key, `/v1/_admin/keys?tenant=${A.tenant}`);
    expect(named.status).toBe(403);
    expectNothingOfA(named, A.tenant);
    const created = await as(
      B.key,
      "/v1/_admin/keys",
      json("POST", { tenant: A.tenant, scopes: ["read"], name: "x" }),
    );
    expect(created.status).toBe(403);
    expectNothingOfA(created, A.tenant);
    await expectSameAsNeverExisted(
      (id) => as(B.key, `/v1/_admin/keys/${id}`, { method: "DELETE" }),
      A.madeKeyId,
      404,
      "not-found",
    );
    // The baseline above asked about a non-hex id; one shaped like a key id answers the same.
    const shaped = await as(B.key, "/v1/_admin/keys/0123456789abcdef", { method: "DELETE" });
    expect([shaped.status, problem(shaped).code]).toEqual([404, "not-found"]);
    const aId = /^tsk_([0-9a-f]{16})_/.exec(A.key)?.[1] ?? "";
    const revokeA = await as(B.key, `/v1/_admin/keys/${aId}`, { method: "DELETE" });
    expect([revokeA.status, problem(revokeA).code]).toEqual([404, "not-found"]);
    expect((await as(A.key, "/v1/_changes?limit=1")).status).toBe(200);
    const aList = await as(A.key, "/v1/_admin/keys");
    expect((aList.body as { items: Array<{ id: string }> }).items.map((k) => k.id)).toContain(A.madeKeyId);
  });

  it("sees none of A's audit entries", async () => {
    const own = await as(B.key, "/v1/_admin/audit?limit=1000");
    expect(own.status).toBe(200);
    // Only B's own entries (its redrive above), none of A's.
    const items = (own.body as { items: Array<{ tenant: string; action: string }> }).items;
    expect(items.map((e) => [e.tenant, e.action])).toEqual([[B.tenant, "dead-letters.redrive"]]);
    expectNothingOfA(own);
    const named = await as(B.key, `/v1/_admin/audit?tenant=${A.tenant}`);
    expect(named.status).toBe(403);
    expectNothingOfA(named, A.tenant);
    const aSees = await as(A.key, "/v1/_admin/audit");
    expect((aSees.body as { items: Array<{ target: string }> }).items.map((e) => e.target)).toEqual([
      A.madeKeyId,
    ]);
  });

  it("with a JWT for tenant B sees nothing of A either", async () => {
    const jwt = B.jwt;
    await expectSameAsNeverExisted((i) => as(jwt, `/v1/todos/${i}`), A.putId, 404, "not-found");
    await expectSameAsNeverExisted((i) => as(jwt, `/v1/todos/${i}`, strong), A.postId, 404, "not-found");
    await expectSameAsNeverExisted((i) => as(jwt, `/v1/todos/${i}/_history`), A.putId, 404, "not-found");
    for (const path of [
      "/v1/todos",
      `/v1/todos?where[owner]=${A.mark}`,
      "/v1/_changes?after=s0",
      "/v1/_stats",
    ]) {
      const sent = await as(jwt, path);
      expect(sent.status, path).toBe(200);
      expectNothingOfA(sent);
    }
    expect((await as(jwt, "/v1/_changes")).body).toEqual({ changes: [], next: "s0" });
    expect((await as(jwt, "/v1/_stats")).body).toMatchObject({ documents: 0, eventsProjected: 0 });
  });

  it("gets 404 patching or deleting A's documents, as for ones that never existed, and A's stay unchanged", async () => {
    const merge = (id: string, headers: Record<string, string> = {}) =>
      as(B.key, `/v1/todos/${id}`, {
        method: "PATCH",
        headers: { "content-type": "application/merge-patch+json", ...headers },
        body: JSON.stringify({ title: "b was here" }),
      });
    const patch = (id: string) =>
      as(B.key, `/v1/todos/${id}`, {
        method: "PATCH",
        headers: { "content-type": "application/json-patch+json" },
        body: JSON.stringify([{ op: "replace", path: "/title", value: "b was here" }]),
      });
    for (const id of [A.putId, A.postId]) {
      await expectSameAsNeverExisted((i) => merge(i), id, 404, "not-found");
      await expectSameAsNeverExisted((i) => patch(i), id, 404, "not-found");
      await expectSameAsNeverExisted(
        (i) => as(B.key, `/v1/todos/${i}`, { method: "DELETE" }),
        id,
        404,
        "not-found",
      );
      // A precondition is judged against B's (absent) document, never A's version.
      await expectSameAsNeverExisted((i) => merge(i, { "if-match": '"1"' }), id, 412, "precondition-failed");
    }
    const put = await as(A.key, `/v1/todos/${A.putId}`, strong);
    expect(put.body).toMatchObject({ version: 2, data: { title: A.mark, status: "doing" } });
    const posted = await as(A.key, `/v1/todos/${A.postId}`, strong);
    expect(posted.body).toMatchObject({ version: 1, data: { title: A.mark, priority: 3 } });
  });

  it("creates its own document when it PUTs to A's id, and A's is unchanged", async () => {
    const written = await as(B.key, `/v1/todos/${A.putId}`, json("PUT", { title: "b's own", owner: "b" }));
    expect(written.status).toBe(201);
    expect(written.body).toMatchObject({ id: A.putId, version: 1, data: { title: "b's own", owner: "b" } });
    expect(JSON.stringify(written.body)).not.toContain(A.mark);

    const theirs = await as(A.key, `/v1/todos/${A.putId}`, strong);
    expect(theirs.body).toMatchObject({
      version: 2,
      data: { title: A.mark, owner: A.mark, status: "doing" },
    });
    const history = await as(A.key, `/v1/todos/${A.putId}/_history`);
    expect((history.body as { items: unknown[] }).items).toHaveLength(2);

    const own = await as(B.key, `/v1/todos/${A.putId}`, strong);
    expect(own.body).toMatchObject({ version: 1, data: { title: "b's own" } });
    const ownHistory = await as(B.key, `/v1/todos/${A.putId}/_history`);
    expect((ownHistory.body as { items: Array<{ version: number }> }).items.map((e) => e.version)).toEqual([
      1,
    ]);
    expect(JSON.stringify(ownHistory.body)).not.toContain(A.mark);

    // B's own document reaches B's read model and feed; A's never does.
    await eventually(async () => {
      const feed = await as(B.key, "/v1/_changes?after=s0");
      expect((feed.body as { changes: Array<{ id: string }> }).changes.map((c) => c.id)).toEqual([A.putId]);
    });
    const feed = await as(B.key, "/v1/_changes?after=s0");
    expect(JSON.stringify(feed.body)).not.toContain(A.mark);
    const query = await as(B.key, "/v1/todos");
    expect((query.body as { items: Array<{ data: unknown }> }).items.map((d) => d.data)).toEqual([
      { title: "b's own", owner: "b" },
    ]);
    expect((await as(B.key, "/v1/_stats")).body).toMatchObject({ documents: 1, eventsProjected: 1 });
    expect((await as(A.key, "/v1/_stats")).body).toMatchObject({ documents: 2, eventsProjected: 5 });
  });

  it("creates its own document with A's Idempotency-Key: no replay of A's answer", async () => {
    const created = await as(
      B.key,
      "/v1/todos",
      json("POST", { title: "b's post" }, { "idempotency-key": A.idempotencyKey }),
    );
    expect(created.status).toBe(201);
    expect(created.headers.get("idempotent-replayed")).toBeNull();
    expect(created.body).toMatchObject({ version: 1, data: { title: "b's post" } });
    expect(JSON.stringify(created.body)).not.toContain(A.mark);
    const again = await as(
      B.key,
      "/v1/todos",
      json("POST", { title: "b's post" }, { "idempotency-key": A.idempotencyKey }),
    );
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toMatchObject({ data: { title: "b's post" } });
    const posted = await as(A.key, `/v1/todos/${A.postId}`, strong);
    expect(posted.body).toMatchObject({ version: 1, data: { title: A.mark, priority: 3 } });
  });

  it("in a transaction, finds A's documents absent and writes its own", async (ctx) => {
    const doc = await as(B.key, "/openapi.json");
    const paths = (doc.body as { paths: Record<string, unknown> }).paths;
    if (!Object.hasOwn(paths, "/v1/_transactions")) ctx.skip();
    // A document of A's that B has no namesake of (B made its own at A's other ids above).
    const id = uniqueId("a-tx");
    expect((await as(A.key, `/v1/todos/${id}`, json("PUT", { title: A.mark }))).status).toBe(201);
    const transaction = (operations: unknown[]) =>
      as(B.key, "/v1/_transactions", json("POST", { operations }));
    const checkExists = (i: string) =>
      transaction([{ op: "check", collection: "todos", id: i, exists: true }]);
    const baseline = await checkExists(never());
    expect(baseline.status).toBe(409);
    await expectSameAsNeverExisted(checkExists, id, 409, problem(baseline).code);

    const written = await transaction([
      { op: "put", collection: "todos", id, data: { title: "b's in a transaction" }, exists: false },
      { op: "check", collection: "notes", id: A.goneId, exists: false },
    ]);
    expect(written.status).toBe(200);
    const results = (written.body as { results: Array<{ index: number }> }).results;
    expect([...results].sort((x, y) => x.index - y.index)).toEqual([
      { index: 0, collection: "todos", id, version: 1 },
      { index: 1, collection: "notes", id: A.goneId, version: null },
    ]);
    const own = await as(B.key, `/v1/todos/${id}`, strong);
    expect(own.body).toMatchObject({ version: 1, data: { title: "b's in a transaction" } });
    const theirs = await as(A.key, `/v1/todos/${id}`, strong);
    expect(theirs.body).toMatchObject({ version: 1, data: { title: A.mark } });
  });
});
