/**
 * What the chaos harness's saga workload found (bench/chaos/sagas.ts, the check `saga-stuck`): a saga start with
 * an Idempotency-Key whose first attempt wrote the saga's record but did not create its workflow (Workflows
 * refused the create, or the Worker or the record's object was reset between the two) is answered, on the retry
 * its 503 asks for, "202 Idempotent-Replayed, running", and never runs: the retry finds the record and replays
 * the first answer without making sure the workflow exists. The test drives the first attempt with a SAGAS
 * binding that refuses to create, the way Workflows does when it is unavailable.
 *
 * `it.fails` while the bug is there: the day the route starts the workflow on a replay, it passes, and this
 * test fails until `.fails` is removed.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../workers/index";
import { defaultCredential, eventually, get, post, put, send, uniqueId } from "../helpers";

/** The Workflows binding as it is while the service is unavailable: nothing is created, nothing is found. */
const unavailableSagas = {
  create: async () => {
    throw new Error("workflows: internal error (the test's stand-in)");
  },
  get: async () => {
    throw new Error("instance.not_found");
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
  it.fails("runs the saga (today: it is answered 202 replayed and stays running, with no workflow)", async () => {
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
