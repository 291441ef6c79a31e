/**
 * What the chaos harness's saga workload found (bench/chaos/sagas.ts, the check `saga-stuck`): a saga start with
 * an Idempotency-Key whose first attempt wrote the saga's record but did not create its workflow (Workflows
 * refused the create, or the Worker or the record's object was reset between the two) is answered, on the retry
 * its 503 asks for, "202 Idempotent-Replayed, running", and never ran: the retry finds the record and replays
 * the first answer without making sure the workflow exists. The test drives the first attempt with a SAGAS
 * binding that refuses to create, the way Workflows does when it is unavailable.
 *
 * Fixed: a replay of a saga still running makes sure its workflow exists first. And a saga whose workflow was never
 * created, with no retry to create it, is ended as cancelled by the hourly housekeeping.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../workers/index";
import { endUnstarted } from "../../workers/maintenance/housekeeping";
import { recordKey, SagaRecordStore } from "../../workers/sagas/record";
import { defaultCredential, eventually, get, post, put, send, uniqueId } from "../helpers";

/** The Workflows binding as it is while the service is unavailable: nothing is created, nothing is found. */
const unavailableSagas = {
  create: async () => {
    throw new Error("workflows: internal error (the test's stand-in)");
  },
  get: async () => {
    throw new Error("workflows: internal error (the test's stand-in)");
  },
} as unknown as Env["SAGAS"];

async function startWithoutWorkflows(body: unknown, key: string): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request("http://tessera.test/v1/_sagas/place-order", {
      method: "POST",
      headers: {
        authorization: `Bearer ${defaultCredential.key}`,
        "content-type": "application/json",
        "idempotency-key": key,
      },
      body: JSON.stringify(body),
    }),
    { ...env, SAGAS: unavailableSagas },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe("a saga start retried with its Idempotency-Key after saga-unavailable", () => {
  it("runs the saga once Workflows takes it", async () => {
    const sku = uniqueId("sku");
    const customer = uniqueId("cust");
    await put(`/v1/inventory/${sku}`, { stock: 10 });
    await put(`/v1/balances/${customer}`, { balance: 100 });
    const order = { orderId: uniqueId("order"), sku, quantity: 1, customer, amount: 10, payment: "balance" };
    const key = uniqueId("start");

    const first = await startWithoutWorkflows(order, key);
    expect(first.status).toBe(503);
    expect(((await first.json()) as { code: string }).code).toBe("saga-unavailable");

    // The retry the problem asks for: the same request, the same key, Workflows available again.
    const again = await post("/v1/_sagas/place-order", order, { "idempotency-key": key });
    expect(again.status).toBe(202);
    const { id } = again.body as { id: string };
    await eventually(async () => {
      const view = (await send(`/v1/_sagas/${id}`)).body as { status: string };
      expect(view.status).toBe("completed");
    }, 5_000);
    expect((await get(`/v1/inventory/${sku}`)).body).toMatchObject({ data: { stock: 9 } });
  });
});

describe("a saga whose workflow was never created, and no retry came", () => {
  it("is ended as cancelled by the hourly housekeeping, and only when Workflows says the instance is not found", async () => {
    const id = `S${uniqueId("")
      .replaceAll(/[^0-9a-z]/gi, "")
      .toUpperCase()
      .padEnd(26, "0")
      .slice(0, 26)}`;
    const store = new SagaRecordStore(env, recordKey("default", id));
    expect((await store.create("place-order", [], new Date().toISOString(), "fingerprint")).kind).toBe(
      "committed",
    );
    await eventually(async () =>
      expect((await send(`/v1/_sagas?status=running&limit=200`)).body).toMatchObject({
        items: expect.arrayContaining([expect.objectContaining({ id })]),
      }),
    );
    const later = Date.now() + 16 * 60_000;
    // Workflows down: nothing is ended.
    expect(await endUnstarted({ ...env, SAGAS: unavailableSagas } as Env, later)).toBe(0);
    expect((await store.read())?.status).toBe("running");
    // Not yet stale: nothing is ended either.
    expect(await endUnstarted(env, Date.now())).toBe(0);
    expect(await endUnstarted(env, later)).toBeGreaterThanOrEqual(1);
    expect(await store.read()).toMatchObject({
      status: "cancelled",
      reason: "the saga could not start; nothing ran",
    });
  });
});
