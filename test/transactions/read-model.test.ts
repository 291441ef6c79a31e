/**
 * The read model shows a transaction all at once: its writes are held until every one has arrived, whatever the
 * order and batches the queue delivers them in, and a later event of a participant waits behind them.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { indexSignature } from "../../domain/collections";
import type { EventMessage } from "../../domain/event-message";
import { QUEUES } from "../../platform/queue";
import { deliver, send, uniqueId } from "../helpers";

const collection = "ledger";

function event(
  id: string,
  version: number,
  balance: number,
  extra: Partial<EventMessage> = {},
): EventMessage {
  return {
    v: 1,
    tenant: "default",
    collection,
    id,
    version,
    type: version === 1 ? "put" : "patch",
    eventId: uniqueId("e"),
    committedAt: Date.now(),
    createdAt: 1,
    data: JSON.stringify({ balance }),
    index: [],
    ix: indexSignature(collection),
    ...extra,
  };
}

async function rows(ids: string[]): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for (const id of ids) {
    const row = await env.DB.prepare("SELECT version FROM documents WHERE collection = ? AND id = ?")
      .bind(collection, id)
      .first<{ version: number }>();
    if (row !== null) found[id] = row.version;
  }
  return found;
}

async function feedOf(ids: string[]) {
  const { results } = await env.DB.prepare(
    `SELECT id, version, tx_id FROM changes WHERE collection = ? AND id IN (${ids.map(() => "?").join(",")}) ORDER BY seq`,
  )
    .bind(collection, ...ids)
    .all<{ id: string; version: number; tx_id: string | null }>();
  return results;
}

const held = async () =>
  (await env.DB.prepare("SELECT count(*) AS n FROM held_events").first<{ n: number }>())?.n ?? 0;

describe("a transaction in the read model", () => {
  it("shows none of its writes until all have arrived, then all of them, together in the feed", async () => {
    const [a, b, c] = [uniqueId("a"), uniqueId("b"), uniqueId("c")];
    const tx = { txId: uniqueId("tx"), txSize: 3 };
    expect((await deliver(QUEUES.events, [event(a, 1, 10, tx)])).acked).toEqual([0]);
    expect(await rows([a, b, c])).toEqual({});
    // The other two, in another batch, one of them twice.
    expect((await deliver(QUEUES.events, [event(c, 1, 30, tx), event(c, 1, 30, tx)])).acked).toEqual([0, 1]);
    expect(await rows([a, b, c])).toEqual({});
    expect(await held()).toBeGreaterThanOrEqual(2);
    await deliver(QUEUES.events, [event(b, 1, 20, tx)]);
    expect(await rows([a, b, c])).toEqual({ [a]: 1, [b]: 1, [c]: 1 });
    const feed = await feedOf([a, b, c]);
    expect(feed.map((r) => r.tx_id)).toEqual([tx.txId, tx.txId, tx.txId]);
    expect(feed.map((r) => r.id).sort()).toEqual([a, b, c].sort());
    // Delivered again, its writes change nothing and hold nothing.
    await deliver(QUEUES.events, [event(a, 1, 10, tx)]);
    expect(await feedOf([a, b, c])).toHaveLength(3);
    const api = await send(`/v1/_changes?collection=${collection}`);
    expect(
      (api.body as { changes: Array<{ txId?: string }> }).changes.filter((ch) => ch.txId === tx.txId),
    ).toHaveLength(3);
  });

  it("holds a participant's later write, which carries the transaction's effect, until the transaction is in", async () => {
    const [a, b] = [uniqueId("a"), uniqueId("b")];
    const tx = { txId: uniqueId("tx"), txSize: 2 };
    // Version 2 of a, written after the transaction's version 1, arrives first.
    await deliver(QUEUES.events, [event(a, 2, 99, { txBefore: 1 })]);
    await deliver(QUEUES.events, [event(a, 1, 50, tx)]);
    expect(await rows([a, b])).toEqual({});
    await deliver(QUEUES.events, [event(b, 1, 50, tx)]);
    expect(await rows([a, b])).toEqual({ [a]: 2, [b]: 1 });
    expect((await feedOf([a, b])).map((r) => `${r.id === a ? "a" : "b"}${r.version}`).slice(-3)).toEqual(
      expect.arrayContaining(["a1", "b1", "a2"]),
    );
    // A later event whose transaction is long in the feed waits for nothing.
    await deliver(QUEUES.events, [event(a, 3, 1, { txBefore: 1 })]);
    expect(await rows([a])).toEqual({ [a]: 3 });
  });

  it("answers every query and read with all of a transaction's writes or none, while parts arrive one by one", async () => {
    const ids = Array.from({ length: 4 }, () => uniqueId("q"));
    const tx = { txId: uniqueId("tx"), txSize: ids.length };
    for (const [i, id] of ids.entries()) {
      await deliver(QUEUES.events, [event(id, 1, 25, tx)]);
      const listed = (await send(`/v1/${collection}?limit=200`)).body as { items: Array<{ id: string }> };
      const visible = listed.items.filter((d) => ids.includes(d.id)).length;
      expect(visible).toBe(i === ids.length - 1 ? ids.length : 0);
    }
  });

  it("releases a transaction made whole by held events it only finds while releasing another", async () => {
    const [a, b, c] = [uniqueId("a"), uniqueId("b"), uniqueId("c")];
    const k = { txId: uniqueId("k"), txSize: 2 };
    const x = { txId: uniqueId("x"), txSize: 2 };
    // b@2 and c@1 are transaction K; b@2 builds on b@1, which is transaction X with a@1.
    await deliver(QUEUES.events, [event(b, 2, 2, { ...k, txBefore: 1 })]);
    await deliver(QUEUES.events, [event(c, 1, 3, k)]);
    await deliver(QUEUES.events, [event(b, 1, 1, x)]);
    expect(await rows([a, b, c])).toEqual({});
    // X's last write releases X, and with it K (whose parts were all held already).
    await deliver(QUEUES.events, [event(a, 1, 1, x)]);
    expect(await rows([a, b, c])).toEqual({ [a]: 1, [b]: 2, [c]: 1 });
    expect(await held()).toBe(0);
  });
});
