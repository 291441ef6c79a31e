import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EventMessage } from "../../domain/event-message";
import { QUEUES } from "../../platform/queue";
import { TEST_ADMIN_SECRET } from "../credentials";
import { bearer, deliver, eventually, get, getEventual, send } from "../helpers";

const poison: EventMessage = {
  v: 1,
  tenant: "default",
  collection: "dlq",
  id: "poison",
  version: 1,
  type: "put",
  eventId: "e-poison-1",
  committedAt: Date.now(),
  createdAt: Date.now(),
  data: '{"recovered":true}',
  index: [],
};

/** A fault only this document's events hit, as a bad migration or a constraint would: D1 refuses its rows. */
const POISON = `CREATE TRIGGER poison BEFORE INSERT ON documents WHEN NEW.id = 'poison'
  BEGIN SELECT RAISE(ABORT, 'poisoned'); END`;

describe("dead letters", () => {
  it("stores a poison event from the DLQ, lists it, and a redrive applies it once the cause is fixed", async () => {
    // The projector cannot apply it (D1 refuses it): it asks for a retry, never acks.
    await env.DB.prepare(POISON).run();
    const first = await deliver(QUEUES.events, [poison]);
    expect(first.acked).toEqual([]);
    expect(first.retried).toEqual([0]);

    // After max_retries the queue moves it to the DLQ, whose consumer stores it for operators.
    const dead = await deliver(QUEUES.deadLetters, [poison], 6);
    expect(dead.acked).toEqual([0]);
    const listed = await get("/v1/_admin/dead-letters");
    expect(listed.status).toBe(200);
    const items = (
      listed.body as { items: Array<{ messageId: string; body: EventMessage; attempts: number }> }
    ).items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ body: { id: "poison", version: 1 }, attempts: 6 });
    expect((await get("/v1/_stats")).body).toMatchObject({ deadLettersPending: 1 });

    // The cause is fixed, then the operator redrives: the real queue delivers it to the projector again.
    await env.DB.prepare("DROP TRIGGER poison").run();
    const redrive = await send("/v1/_admin/dead-letters/redrive", { method: "POST" });
    expect(redrive.body).toEqual({ redriven: 1, remaining: 0 });
    await eventually(async () => {
      const read = await getEventual("/v1/dlq/poison");
      expect(read.headers.get("read-source")).toBe("read-model");
      expect(read.body).toMatchObject({ version: 1, data: { recovered: true } });
    });
    expect(((await get("/v1/_admin/dead-letters")).body as { items: unknown[] }).items).toEqual([]);
    expect((await get("/v1/_stats")).body).toMatchObject({ deadLettersPending: 0 });
  });

  it("keeps a dead letter that is not an event listed, for the operator only, instead of redriving it", async () => {
    expect((await deliver(QUEUES.deadLetters, [{ garbage: true }], 6)).acked).toEqual([0]);
    const operator = bearer(TEST_ADMIN_SECRET);
    const redrive = await send("/v1/_admin/dead-letters/redrive", { method: "POST", headers: operator });
    expect(redrive.body).toMatchObject({ redriven: 0, remaining: 1 });
    const listed = await send("/v1/_admin/dead-letters", { headers: operator });
    expect((listed.body as { items: Array<{ body: unknown }> }).items.map((i) => i.body)).toEqual([
      { garbage: true },
    ]);
    // A body with no tenant belongs to no tenant's admin.
    expect((await get("/v1/_admin/dead-letters")).body).toMatchObject({ items: [] });
  });
});
