/** Sagas as a client sees them: place-order completes, or compensates when the charge fails; cancel; failed and resumed. */
import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { eventually, get, post, problem, put, send, uniqueId } from "../helpers";

interface SagaView {
  id: string;
  status: string;
  reason: string | null;
  steps: Array<{
    name: string;
    action: { status: string; attempts: number };
    compensation: { status: string } | null;
  }>;
}

const saga = async (id: string) => (await send(`/v1/_sagas/${id}`)).body as SagaView;
const finished = (id: string, ...statuses: string[]) =>
  eventually(async () => {
    const view = await saga(id);
    expect(statuses).toContain(view.status);
    return view;
  }, 30_000);
const history = async (path: string) =>
  ((await send(`${path}/_history`)).body as { items: Array<{ version: number; data: unknown }> }).items;

async function shop(stock: number, balance: number) {
  const sku = uniqueId("sku");
  const customer = uniqueId("cust");
  await put(`/v1/inventory/${sku}`, { stock });
  await put(`/v1/balances/${customer}`, { balance });
  return { sku, customer, orderId: uniqueId("order") };
}

describe("the place-order saga", () => {
  it("completes: stock reserved, balance charged, order created, each once", async () => {
    const { sku, customer, orderId } = await shop(10, 500);
    const started = await post("/v1/_sagas/place-order", {
      orderId,
      sku,
      quantity: 3,
      customer,
      amount: 120,
    });
    expect(started.status).toBe(202);
    const { id } = started.body as { id: string };
    expect(started.headers.get("location")).toBe(`/v1/_sagas/${id}`);
    const view = await finished(id, "completed");
    expect(view.steps.map((s) => [s.name, s.action.status, s.action.attempts])).toEqual([
      ["reserve-stock", "done", 1],
      ["charge", "done", 1],
      ["create-order", "done", 1],
    ]);
    expect((await get(`/v1/inventory/${sku}`)).body).toMatchObject({ version: 2, data: { stock: 7 } });
    expect((await get(`/v1/balances/${customer}`)).body).toMatchObject({
      version: 2,
      data: { balance: 380 },
    });
    expect((await get(`/v1/orders/${orderId}`)).body).toMatchObject({
      version: 1,
      data: { status: "placed" },
    });
    expect(await history(`/v1/inventory/${sku}`)).toHaveLength(2);
  });

  it("compensates when the charge fails for good: stock restored, no order, status compensated", async () => {
    const { sku, customer, orderId } = await shop(10, 50);
    const started = await post("/v1/_sagas/place-order", {
      orderId,
      sku,
      quantity: 2,
      customer,
      amount: 100,
    });
    const { id } = started.body as { id: string };
    const view = await finished(id, "compensated");
    expect(view.reason).toMatch(/charge/);
    expect(view.steps.map((s) => [s.action.status, s.compensation?.status])).toEqual([
      ["done", "done"],
      ["failed", "pending"],
      ["skipped", "pending"],
    ]);
    expect((await get(`/v1/inventory/${sku}`)).body).toMatchObject({ version: 3, data: { stock: 10 } });
    expect((await get(`/v1/balances/${customer}`)).body).toMatchObject({ version: 1, data: { balance: 50 } });
    expect((await get(`/v1/orders/${orderId}`)).status).toBe(404);
  });

  it("charges a payment service on the allow-list once, and refunds it when a later step fails", async () => {
    const { sku, customer } = await shop(5, 0);
    // The order exists already, so create-order fails for good after the charge.
    const orderId = uniqueId("taken");
    await put(`/v1/orders/${orderId}`, { taken: true });
    const started = await post("/v1/_sagas/place-order", {
      orderId,
      sku,
      quantity: 1,
      customer,
      amount: 40,
      payment: "service",
    });
    const { id } = started.body as { id: string };
    await finished(id, "compensated");
    const ledger = (await (await fetch("https://payments.test/_ledger")).json()) as Array<{
      kind: string;
      reference: string;
    }>;
    expect(ledger.filter((e) => e.reference === orderId).map((e) => e.kind)).toEqual(["charge", "refund"]);
    expect((await get(`/v1/inventory/${sku}`)).body).toMatchObject({ data: { stock: 5 } });
  });

  it("replays a start with the same Idempotency-Key, and refuses the key for another saga", async () => {
    const { sku, customer, orderId } = await shop(10, 500);
    const input = { orderId, sku, quantity: 1, customer, amount: 1 };
    const key = { "idempotency-key": uniqueId("k") };
    const first = await post("/v1/_sagas/place-order", input, key);
    const again = await post("/v1/_sagas/place-order", input, key);
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((again.body as { id: string }).id).toBe((first.body as { id: string }).id);
    await finished((first.body as { id: string }).id, "completed");
    expect((await get(`/v1/inventory/${sku}`)).body).toMatchObject({ version: 2, data: { stock: 9 } });
    const other = await post("/v1/_sagas/place-order", { ...input, quantity: 2 }, key);
    expect(other.status).toBe(422);
  });
});

describe("sagas given their steps", () => {
  it("lists the tenant's sagas by status from the read model", async () => {
    const doc = uniqueId("s");
    const started = await post("/v1/_sagas", {
      steps: [{ name: "touch", action: { op: "put", collection: "notes", id: doc, data: { n: 1 } } }],
    });
    const { id } = started.body as { id: string };
    await finished(id, "completed");
    await eventually(async () => {
      const listed = (await send("/v1/_sagas?status=completed&limit=200")).body as {
        items: Array<{ id: string }>;
      };
      expect(listed.items.map((s) => s.id)).toContain(id);
    });
    const running = (await send("/v1/_sagas?status=running")).body as { items: Array<{ id: string }> };
    expect(running.items.map((s) => s.id)).not.toContain(id);
  });

  it("is failed, visibly, when a compensation keeps failing, and an admin's resume completes it once the cause is fixed", async () => {
    const doc = uniqueId("r");
    await fetch("https://payments.test/_control", {
      method: "POST",
      body: JSON.stringify({ refunds: "fail" }),
    });
    try {
      const started = await post("/v1/_sagas", {
        steps: [
          {
            name: "pay",
            action: {
              op: "http",
              method: "POST",
              url: "https://payments.test/charges",
              body: { reference: doc, amount: 5 },
            },
            compensation: {
              op: "http",
              method: "POST",
              url: "https://payments.test/refunds",
              body: { reference: doc, amount: 5 },
            },
          },
          {
            name: "fail",
            action: { op: "patch", collection: "notes", id: uniqueId("missing"), merge: { x: 1 } },
          },
        ],
      });
      const { id } = started.body as { id: string };
      const failed = await finished(id, "failed");
      expect(failed.reason).toMatch(/refunds are failing/);
      expect(failed.steps[0]?.compensation?.status).toBe("failed");
      const early = await send(`/v1/_sagas/${id}/cancel`, { method: "POST" });
      expect(problem(early).code).toBe("saga-not-running");
      await fetch("https://payments.test/_control", {
        method: "POST",
        body: JSON.stringify({ refunds: "ok" }),
      });
      expect((await send(`/v1/_sagas/${id}/resume`, { method: "POST" })).status).toBe(202);
      await finished(id, "compensated");
      const ledger = (await (await fetch("https://payments.test/_ledger")).json()) as Array<{
        reference: string;
        kind: string;
      }>;
      expect(ledger.filter((e) => e.reference === doc).map((e) => e.kind)).toEqual(["charge", "refund"]);
    } finally {
      await fetch("https://payments.test/_control", {
        method: "POST",
        body: JSON.stringify({ refunds: "ok" }),
      });
    }
  });

  it("refuses steps it cannot run: a URL off the allow-list, a collection the credential may not use, bad shapes", async () => {
    const refused = [
      { steps: [{ name: "x", action: { op: "http", method: "POST", url: "https://evil.example/x" } }] },
      { steps: [] },
      { steps: [{ name: "Bad Name", action: { op: "delete", collection: "a", id: "b" } }] },
      { steps: [{ name: "x", action: { op: "nope", collection: "a", id: "b" } }] },
    ];
    for (const body of refused) {
      const res = await post("/v1/_sagas", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(problem(res).code).toBe("invalid-saga");
    }
    expect((await post("/v1/_sagas/no-such-saga", {})).status).toBe(404);
    expect(problem(await post("/v1/_sagas/place-order", { orderId: "x" })).code).toBe("invalid-saga-input");
  });
});

describe("a saga under interruptions", () => {
  const charge = (reference: string, path = "/charges") => ({
    name: "pay",
    action: {
      op: "http",
      method: "POST",
      url: `https://payments.test${path}`,
      body: { reference, amount: 7 },
    },
    compensation: {
      op: "http",
      method: "POST",
      url: "https://payments.test/refunds",
      body: { reference, amount: 7 },
    },
  });
  const ledgerOf = async (reference: string) =>
    (
      (await (await fetch("https://payments.test/_ledger")).json()) as Array<{
        reference: string;
        kind: string;
      }>
    )
      .filter((e) => e.reference === reference)
      .map((e) => e.kind);

  it("cancel stops a running saga after the step under way, and compensates what completed", async () => {
    const ref = uniqueId("cancel");
    const [first, third] = [uniqueId("n"), uniqueId("n")];
    const started = await post("/v1/_sagas", {
      steps: [
        {
          name: "first",
          action: { op: "put", collection: "notes", id: first, data: { n: 1 } },
          compensation: { op: "delete", collection: "notes", id: first },
        },
        charge(ref, "/slow"),
        { name: "third", action: { op: "put", collection: "notes", id: third, data: { n: 3 } } },
      ],
    });
    const { id } = started.body as { id: string };
    await eventually(async () => expect((await saga(id)).steps[1]?.action.status).toBe("running"));
    expect((await send(`/v1/_sagas/${id}/cancel`, { method: "POST" })).status).toBe(202);
    const view = await finished(id, "cancelled");
    expect(view.steps.map((s) => [s.action.status, s.compensation?.status ?? null])).toEqual([
      ["done", "done"],
      ["done", "done"],
      ["skipped", null],
    ]);
    expect(await ledgerOf(ref)).toEqual(["charge", "refund"]);
    expect((await get(`/v1/notes/${first}`)).status).toBe(404);
    expect((await get(`/v1/notes/${third}`)).status).toBe(404);
    expect(problem(await send(`/v1/_sagas/${id}/cancel`, { method: "POST" })).code).toBe("saga-not-running");
  });

  it("retries a step whose effect happened before its answer was lost, and the effect happens once", async () => {
    const ref = uniqueId("crash");
    await fetch("https://payments.test/_control", {
      method: "POST",
      body: JSON.stringify({ crashAfterCharge: 1 }),
    });
    const note = uniqueId("n");
    const started = await post("/v1/_sagas", {
      steps: [
        charge(ref),
        { name: "note", action: { op: "put", collection: "notes", id: note, data: { ok: true } } },
      ],
    });
    const { id } = started.body as { id: string };
    const view = await finished(id, "completed");
    expect(view.steps[0]?.action.attempts).toBe(2);
    expect(await ledgerOf(ref)).toEqual(["charge"]);
  });

  it("undoes a step it gave up on when its effect happened all the same, and only then", async () => {
    const ref = uniqueId("doubt");
    const note = uniqueId("n");
    const started = await post("/v1/_sagas", {
      steps: [
        {
          name: "note",
          action: { op: "put", collection: "notes", id: note, data: { n: 1 } },
          compensation: { op: "delete", collection: "notes", id: note },
        },
        { ...charge(ref, "/flaky"), attempts: 2 },
      ],
    });
    const { id } = started.body as { id: string };
    const view = await finished(id, "compensated");
    expect(view.steps[1]?.action, JSON.stringify(view)).toMatchObject({ status: "failed", attempts: 2 });
    // The charge was taken though no answer said so: it is refunded, and the note undone.
    expect(await ledgerOf(ref), JSON.stringify(view)).toEqual(["charge", "refund"]);
    expect((await get(`/v1/notes/${note}`)).status).toBe(404);
  });

  it("resumes after every object of the runtime is reset mid-saga, and applies each effect once", async () => {
    const ref = uniqueId("reset");
    const [a, b] = [uniqueId("n"), uniqueId("n")];
    const again = await post("/v1/_sagas", {
      steps: [
        { name: "before", action: { op: "put", collection: "notes", id: a, data: { n: 1 } } },
        charge(ref, "/slow"),
        { name: "after", action: { op: "put", collection: "notes", id: b, data: { n: 2 } } },
      ],
    });
    const second = (again.body as { id: string }).id;
    await eventually(async () => expect((await saga(second)).steps[1]?.action.status).toBe("running"));
    // Every object resets: documents, records and the workflow engine's own, inside the slow step.
    await abortAllDurableObjects();
    await finished(second, "completed");
    expect(await history(`/v1/notes/${a}`)).toHaveLength(1);
    expect(await history(`/v1/notes/${b}`)).toHaveLength(1);
    expect(await ledgerOf(ref)).toEqual(["charge"]);
  });

  it("shows its life in the change feed: each transition of its record is a change", async () => {
    const started = await post("/v1/_sagas", {
      steps: [{ name: "one", action: { op: "put", collection: "notes", id: uniqueId("f"), data: {} } }],
    });
    const { id } = started.body as { id: string };
    await finished(id, "completed");
    await eventually(async () => {
      const feed = (await send("/v1/_changes?collection=_sagas&limit=1000")).body as {
        changes: Array<{ id: string; data: { status: string } | null }>;
      };
      const statuses = feed.changes.filter((ch) => ch.id === id).map((ch) => ch.data?.status);
      expect(statuses[0]).toBe("running");
      expect(statuses.at(-1)).toBe("completed");
    });
  });
});
