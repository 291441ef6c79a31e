/**
 * The client (client/) against the real Worker, method by method: documents (get at each consistency, put,
 * create, merge patch, JSON Patch, increment, delete, history, getVersion), queries paged with for await, the
 * change feed as a long-polling iterator that resumes from its cursor, transactions, sagas, the operator's routes,
 * errors typed from problem documents, session consistency under concurrency, and retries that never apply a
 * write twice.
 */
import { describe, expect, it } from "vitest";
import { type Change, type Doc, TesseraError } from "../../client/src/index";
import { eventually, makeKey, uniqueId } from "../helpers";
import { client, workerFetch } from "./harness";

interface Account {
  balance: number;
  owner?: string;
}

describe("documents", () => {
  it("put creates then replaces, get reads at every consistency level, delete leaves a 404 and the history", async () => {
    const db = client();
    const todos = db.collection("todos");
    const id = uniqueId("todo");
    const created = await todos.put(id, { title: "write the client", status: "open", priority: 3 });
    expect(created).toMatchObject({
      collection: "todos",
      id,
      version: 1,
      data: { title: "write the client" },
    });
    const replaced = await todos.put(id, { title: "write the client", status: "doing", priority: 4 });
    expect(replaced.version).toBe(2);
    // Session (the default): the client's token makes the read at least as new as its write.
    expect((await todos.get(id))?.version).toBe(2);
    expect((await todos.get(id, { consistency: "strong" }))?.data.status).toBe("doing");
    await eventually(async () => expect((await todos.get(id, { consistency: "eventual" }))?.version).toBe(2));
    expect(await todos.delete(id)).toEqual({ version: 3 });
    expect(await todos.get(id)).toBeNull();
    expect(await todos.get(id, { consistency: "strong" })).toBeNull();
    const history = await todos.history(id).toArray();
    expect(history.map((e) => [e.version, e.type])).toEqual([
      [1, "put"],
      [2, "put"],
      [3, "delete"],
    ]);
    expect((await todos.getVersion(id, 1))?.data).toEqual({
      title: "write the client",
      status: "open",
      priority: 3,
    });
    expect(await todos.getVersion(id, 3)).toBeNull();
    expect(await todos.get(uniqueId("never"))).toBeNull();
  });

  it("create makes a document whose id its Idempotency-Key designates: the same key, the same document", async () => {
    const notes = client().collection<{ text: string }>("notes");
    const first = await notes.create({ text: "one" });
    const other = await notes.create({ text: "one" });
    expect(first.id).not.toBe(other.id);
    const key = uniqueId("key");
    const keyed = await notes.create({ text: "two" }, { idempotencyKey: key });
    const again = await notes.create({ text: "two" }, { idempotencyKey: key });
    expect(again).toEqual(keyed);
    expect(keyed.id).toMatch(/^k[0-9a-f]{32}$/);
  });

  it("patch takes a merge patch (an object) or a JSON Patch (an array); increment adds atomically within bounds", async () => {
    const accounts = client().collection<Account>("accounts");
    const id = uniqueId("acct");
    await accounts.put(id, { balance: 10, owner: "ada" });
    const merged = await accounts.patch(id, { owner: null, balance: 12 });
    expect(merged.data).toEqual({ balance: 12 });
    const patched = await accounts.patch(id, [{ op: "add", path: "/owner", value: "grace" }]);
    expect(patched).toMatchObject({ version: 3, data: { balance: 12, owner: "grace" } });
    const increments = await Promise.all(
      Array.from({ length: 10 }, () => accounts.increment(id, "balance", 1)),
    );
    expect(increments.map((d) => d.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 4),
    );
    expect((await accounts.get(id, { consistency: "strong" }))?.data.balance).toBe(22);
    const refused = await accounts.increment(id, "balance", -30, { min: 0 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TesseraError);
    expect(refused).toMatchObject({ status: 409, code: "patch-bound-exceeded", pointer: "/balance" });
  });

  it("honours If-Match and If-None-Match, and types the 412 with the current version", async () => {
    const notes = client().collection("notes");
    const id = uniqueId("cond");
    const v1 = await notes.put(id, { n: 1 }, { ifNoneMatch: "*" });
    const again = await notes.put(id, { n: 1 }, { ifNoneMatch: "*" }).catch((e: unknown) => e);
    expect(again).toMatchObject({ status: 412, code: "precondition-failed", currentVersion: 1 });
    const v2 = await notes.put(id, { n: 2 }, { ifMatch: v1.version });
    expect(v2.version).toBe(2);
    const stale = await notes.patch(id, { n: 3 }, { ifMatch: v1.version }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(TesseraError);
    expect(stale).toMatchObject({ status: 412, currentVersion: 2 });
  });

  it("types errors from problem documents: code, status, pointer, the whole problem", async () => {
    const todos = client().collection("todos");
    const invalid = await todos.put(uniqueId("bad"), { title: "", priority: 99 }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(TesseraError);
    const error = invalid as TesseraError;
    expect(error).toMatchObject({ status: 422, code: "document-invalid", pointer: "/title" });
    expect(error.problem?.type).toBe("https://tessera.dev/problems/document-invalid");
    expect(error.requestId).toBeTruthy();
    const missing = await client()
      .collection("notes")
      .patch(uniqueId("none"), { a: 1 })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: "not-found" });
    const unauthenticated = await client({ key: "tsk_0123456789abcdef_nope" })
      .collection("notes")
      .get("x")
      .catch((e: unknown) => e);
    expect(unauthenticated).toMatchObject({ status: 401, code: "invalid-credential" });
  });
});

describe("session consistency", () => {
  it("reads its own writes at once, also when they ran concurrently, and a new client does not need to", async () => {
    const db = client();
    const notes = db.collection<{ n: number }>("notes");
    const ids = Array.from({ length: 12 }, () => uniqueId("sess"));
    await Promise.all(ids.map((id) => notes.put(id, { n: 1 })));
    await Promise.all(ids.map((id) => notes.put(id, { n: 2 })));
    // Right after the writes the read model is behind: every read still sees the session's own second version.
    const reads = await Promise.all(ids.map((id) => notes.get(id)));
    expect(reads.map((r) => r?.data.n)).toEqual(ids.map(() => 2));
    expect(db.token).toMatch(/^t2~/);
    // Another client carrying this one's token reads these writes too.
    const other = client({ token: db.token });
    const id = ids[0] as string;
    expect((await other.collection<{ n: number }>("notes").get(id))?.data.n).toBe(2);
  });

  it("eventual reads skip the token; strong reads ask the document's object", async () => {
    const db = client({ consistency: "eventual" });
    const notes = db.collection("notes");
    const id = uniqueId("ev");
    await notes.put(id, { a: 1 });
    expect((await notes.get(id, { consistency: "strong" }))?.version).toBe(1);
    await eventually(async () => expect((await notes.get(id))?.version).toBe(1));
  });
});

describe("queries", () => {
  it("filter, order and limit, and for await over the documents or over the pages", async () => {
    const db = client();
    const todos = db.collection("todos");
    const owner = uniqueId("owner");
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        todos.put(uniqueId("q"), {
          title: `task ${i}`,
          status: i % 2 === 0 ? "open" : "done",
          priority: i,
          owner,
        }),
      ),
    );
    const open = todos
      .query()
      .where("owner", "eq", owner)
      .where("status", "eq", "open")
      .orderBy("-priority")
      .limit(2);
    await eventually(async () => expect(await open.toArray()).toHaveLength(4));
    const priorities: number[] = [];
    for await (const todo of open) priorities.push(todo.data.priority ?? -1);
    expect(priorities).toEqual([6, 4, 2, 0]);
    const pages: number[] = [];
    for await (const page of open.pages()) pages.push(page.items.length);
    expect(pages).toEqual([2, 2, 0].slice(0, pages.length));
    expect(pages.slice(0, 2)).toEqual([2, 2]);
    const first = await open.page();
    expect(first.next).not.toBeNull();
    const second = await open.page(first.next ?? undefined);
    expect(second.items.map((t) => t.data.priority)).toEqual([2, 0]);
    const some = await todos.query().where("owner", "eq", owner).where("priority", "in", [1, 3, 5]).toArray();
    expect(some.map((t) => t.data.priority).sort()).toEqual([1, 3, 5]);
    const refused = await todos
      .query()
      .where("title", "eq", "x")
      .toArray()
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 400, code: "field-not-indexed" });
  });
});

describe("the change feed", () => {
  it("iterates the feed, stops at its end when asked, and resumes from its cursor", async () => {
    const db = client();
    const collection = uniqueId("feed").replaceAll(/[^a-z0-9-]/g, "");
    const notes = db.collection(collection);
    await notes.put("a", { n: 1 });
    await notes.put("b", { n: 1 });
    const seen: Change[] = [];
    await eventually(async () => {
      seen.length = 0;
      for await (const change of db.changes({ collection, follow: false })) seen.push(change);
      expect(seen).toHaveLength(2);
    });
    const stream = db.changes({ collection, follow: false });
    for await (const _ of stream) {
      // drain
    }
    const cursor = stream.cursor;
    expect(cursor).toMatch(/^s[0-9a-z]+$/);
    await notes.patch("a", { n: 2 });
    const later: Change[] = [];
    await eventually(async () => {
      later.length = 0;
      for await (const change of db.changes({ collection, after: cursor, follow: false })) later.push(change);
      expect(later.map((c) => [c.id, c.version])).toEqual([["a", 2]]);
    });
  });

  it("long-polls at the end of the feed: a change written later arrives without asking again", async () => {
    const db = client();
    const collection = uniqueId("tail").replaceAll(/[^a-z0-9-]/g, "");
    const abort = new AbortController();
    const stream = db.changes({ collection, wait: 20, signal: abort.signal });
    const arrived = (async () => {
      for await (const change of stream) {
        abort.abort();
        return change;
      }
      return null;
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await db.collection(collection).put("late", { n: 1 });
    const change = await arrived;
    expect(change).toMatchObject({ collection, id: "late", version: 1, type: "put" });
    expect(stream.cursor).toBe(`s${change?.seq.toString(36)}`);
  });
});

describe("transactions", () => {
  it("applies every write or none, and names the operation that cannot apply", async () => {
    const db = client();
    const [alice, bob] = [uniqueId("alice"), uniqueId("bob")];
    const accounts = db.collection<Account>("accounts");
    await accounts.put(alice, { balance: 100 });
    await accounts.put(bob, { balance: 0 });
    const moved = await db.transaction([
      {
        op: "patch",
        collection: "accounts",
        id: alice,
        patch: [{ op: "increment", path: "/balance", value: -30, min: 0 }],
      },
      {
        op: "patch",
        collection: "accounts",
        id: bob,
        patch: [{ op: "increment", path: "/balance", value: 30 }],
      },
    ]);
    expect(moved.results.map((r) => r.version)).toEqual([2, 2]);
    // Session consistency covers a transaction's writes too.
    expect((await accounts.get(bob))?.data.balance).toBe(30);
    const refused = await db
      .transaction([
        {
          op: "patch",
          collection: "accounts",
          id: bob,
          patch: [{ op: "increment", path: "/balance", value: 1000 }],
        },
        {
          op: "patch",
          collection: "accounts",
          id: alice,
          patch: [{ op: "increment", path: "/balance", value: -1000, min: 0 }],
        },
      ])
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TesseraError);
    expect(refused).toMatchObject({ status: 409, code: "transaction-aborted" });
    expect((refused as TesseraError).problem?.operation).toBe(1);
    expect((await accounts.get(bob, { consistency: "strong" }))?.data.balance).toBe(30);
  });
});

describe("sagas", () => {
  it("starts a declared saga, reads it, waits for its end; cancel stops a running one", async () => {
    const db = client();
    const [sku, customer, orderId] = [uniqueId("sku"), uniqueId("cust"), uniqueId("order")];
    await db.collection("inventory").put(sku, { stock: 5 });
    await db.collection("balances").put(customer, { balance: 100 });
    const started = await db.sagas.start("place-order", { orderId, sku, quantity: 2, customer, amount: 40 });
    expect(started.status).toBe("running");
    expect((await db.sagas.get(started.id))?.name).toBe("place-order");
    const done = await db.sagas.wait(started.id, { timeoutMs: 30_000 });
    expect(done.status).toBe("completed");
    expect((await db.collection("inventory").get(sku, { consistency: "strong" }))?.data).toEqual({
      stock: 3,
    });
    const late = await db.sagas.cancel(started.id).catch((e: unknown) => e);
    expect(late).toMatchObject({ status: 409, code: "saga-not-running" });
    expect(await db.sagas.get("01J0000000000000000000000A")).toBeNull();

    const note = uniqueId("n");
    const slow = await db.sagas.start({
      steps: [
        {
          name: "first",
          action: { op: "put", collection: "notes", id: note, data: { n: 1 } },
          compensation: { op: "delete", collection: "notes", id: note },
        },
        {
          name: "slow",
          action: {
            op: "http",
            method: "POST",
            url: "https://payments.test/slow",
            body: { reference: note, amount: 1 },
          },
        },
        { name: "never", action: { op: "put", collection: "notes", id: uniqueId("n"), data: {} } },
      ],
    });
    await eventually(async () =>
      expect((await db.sagas.get(slow.id))?.steps[1]?.action.status).toBe("running"),
    );
    await db.sagas.cancel(slow.id);
    const cancelled = await db.sagas.wait(slow.id, { timeoutMs: 30_000 });
    expect(cancelled.status).toBe("cancelled");
    expect(await db.collection("notes").get(note, { consistency: "strong" })).toBeNull();
    await eventually(async () => {
      const listed = await db.sagas.list({ status: "cancelled" }).toArray();
      expect(listed.map((s) => s.id)).toContain(slow.id);
    });
  });
});

describe("the operator's routes", () => {
  it("keys, stats, metrics and dead letters, for a tenant admin", async () => {
    const db = client();
    const created = await db.admin.keys.create({ tenant: "default", scopes: ["read"], name: uniqueId("k") });
    expect(created.key).toMatch(/^tsk_/);
    const reader = client({ key: created.key });
    await expect(reader.collection("notes").put(uniqueId("r"), {})).rejects.toMatchObject({
      status: 403,
      code: "insufficient-scope",
    });
    expect((await db.admin.keys.list().toArray()).map((k) => k.id)).toContain(created.id);
    await db.admin.keys.revoke(created.id);
    expect((await db.admin.keys.list().toArray()).map((k) => k.id)).not.toContain(created.id);
    expect(await db.admin.stats()).toHaveProperty("eventsProjected");
    expect(await db.admin.metrics()).toContain("# TYPE");
    expect(await db.admin.deadLetters.list().toArray()).toEqual([]);
    expect(await db.admin.deadLetters.redrive()).toEqual({ redriven: 0, remaining: 0 });
  });
});

describe("retries", () => {
  it("retries a write whose answer was lost with the same Idempotency-Key: applied once, replayed", async () => {
    const keys: string[] = [];
    let lose = 1;
    const db = client({
      retry: { baseDelayMs: 1 },
      fetch: async (request) => {
        keys.push(request.headers.get("idempotency-key") ?? "");
        const response = await workerFetch(request);
        if (lose-- > 0) throw new TypeError("connection reset after the write");
        return response;
      },
    });
    const id = uniqueId("lost");
    const doc = await db.collection("notes").put(id, { once: true });
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    expect(doc.version).toBe(1);
    const history = await client().collection("notes").history(id).toArray();
    expect(history).toHaveLength(1);
  });

  it("waits Retry-After on 429 and 503, and gives up at the deadline with the last problem", async () => {
    let calls = 0;
    const busy = (status: number) =>
      new Response(
        JSON.stringify({
          type: "t",
          title: "busy",
          status,
          detail: "busy",
          code: status === 429 ? "rate-limited" : "overloaded",
        }),
        {
          status,
          headers: { "content-type": "application/problem+json", "retry-after": "0" },
        },
      );
    const db = client({
      retry: { baseDelayMs: 1 },
      fetch: async (request) => (++calls <= 2 ? busy(calls === 1 ? 429 : 503) : workerFetch(request)),
    });
    const doc = await db.collection("notes").put(uniqueId("busy"), { a: 1 });
    expect(calls).toBe(3);
    expect(doc.version).toBe(1);

    const never = client({ retry: { baseDelayMs: 1, retries: 3 }, fetch: async () => busy(503) });
    await expect(never.collection("notes").get("x")).rejects.toMatchObject({
      status: 503,
      code: "overloaded",
    });
    const down = client({
      retry: { baseDelayMs: 1, retries: 2 },
      fetch: async () => {
        throw new TypeError("fetch failed");
      },
    });
    await expect(down.collection("notes").get("x")).rejects.toMatchObject({
      status: 0,
      code: "network-error",
    });
  });
});

describe("a credential limited to some collections", () => {
  it("is refused the others through the client too", async () => {
    const key = await makeKey({ collections: ["notes"] });
    const db = client({ key });
    const doc: Doc<Record<string, unknown>> = await db.collection("notes").put(uniqueId("lim"), { a: 1 });
    expect(doc.version).toBe(1);
    await expect(db.collection("accounts").get("x")).rejects.toMatchObject({ status: 403 });
  });
});
