import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { objectName } from "../../domain/keys";
import type { DocumentObject } from "../../durable-objects/DocumentObject";
import { eventually, get, getEventual, put, uniqueId } from "../helpers";

const collection = "outbox";
const path = (id: string) => `/v1/${collection}/${encodeURIComponent(id)}`;

function stubFor(id: string): DurableObjectStub<DocumentObject> {
  return env.DOCUMENTS.get(env.DOCUMENTS.idFromName(objectName({ tenant: "default", collection, id })));
}

function outboxOf(id: string) {
  return runInDurableObject(stubFor(id), async (_instance, state) => ({
    rows: state.storage.sql
      .exec<{ version: number; attempts: number; sent_at: number | null }>(
        "SELECT version, attempts, sent_at FROM outbox ORDER BY version",
      )
      .toArray(),
    alarm: await state.storage.getAlarm(),
  }));
}

/** Makes the object's queue sends fail until the returned function is called. */
async function breakSends(id: string): Promise<() => Promise<void>> {
  let original: DocumentObject["publish"] | undefined;
  await runInDurableObject(stubFor(id), (instance) => {
    original = instance.publish;
    instance.publish = async () => {
      throw new Error("queue unavailable (injected)");
    };
  });
  return () =>
    runInDurableObject(stubFor(id), (instance) => {
      if (original !== undefined) instance.publish = original;
    });
}

describe("outbox", () => {
  it("keeps events whose send failed, answers the client anyway, and delivers them when sends recover", async () => {
    const id = uniqueId();
    await put(path(id), { n: 0 });
    await eventually(async () => expect((await getEventual(path(id))).body).toMatchObject({ version: 1 }));
    const repair = await breakSends(id);

    for (let n = 1; n <= 3; n++) expect((await put(path(id), { n })).status).toBe(200);
    await eventually(async () => {
      const { rows } = await outboxOf(id);
      expect(rows.map((r) => r.version)).toEqual([2, 3, 4]);
      expect(rows.every((r) => r.attempts >= 1)).toBe(true);
    });
    const { alarm } = await outboxOf(id);
    expect(alarm).not.toBeNull();
    // The read model is stuck at the last version that was sent.
    expect((await getEventual(path(id))).body).toMatchObject({ version: 1 });

    await repair();
    expect(await runDurableObjectAlarm(stubFor(id))).toBe(true);
    expect((await outboxOf(id)).rows.filter((r) => r.sent_at === null)).toEqual([]);
    await eventually(async () => {
      const read = await getEventual(path(id));
      expect(read.headers.get("read-source")).toBe("read-model");
      expect(read.body).toMatchObject({ version: 4, data: { n: 3 } });
    });
    // Once the change feed holds them, the next alarm confirms the rows and they go.
    await runDurableObjectAlarm(stubFor(id));
    expect((await outboxOf(id)).rows).toEqual([]);
  });

  it("sends what a crash between commit and send left behind, from the alarm of the restarted object", async () => {
    const id = uniqueId();
    await breakSends(id);
    expect((await put(path(id), { survived: true })).status).toBe(201);
    await eventually(async () => expect((await outboxOf(id)).rows.map((r) => r.attempts)).toEqual([1]));

    // The object is reset: memory (and the broken publisher) gone, SQLite and the alarm kept.
    await abortAllDurableObjects();
    expect((await outboxOf(id)).alarm).not.toBeNull();
    expect(await runDurableObjectAlarm(stubFor(id))).toBe(true);
    expect((await outboxOf(id)).rows.filter((r) => r.sent_at === null)).toEqual([]);
    await eventually(async () =>
      expect((await getEventual(path(id))).body).toMatchObject({ version: 1, data: { survived: true } }),
    );
  });

  it("sends again an event the queue accepted but lost, once the change feed still lacks it", async () => {
    const id = uniqueId();
    let real: DocumentObject["publish"] | undefined;
    const swallowed: number[] = [];
    let now = Date.now();
    await runInDurableObject(stubFor(id), (instance) => {
      real = instance.publish;
      instance.clock = () => now;
      // The queue says yes and then loses the message, as Miniflare's in-memory queue does on a restart.
      instance.publish = async (batch) => {
        swallowed.push(...batch.map((m) => m.version));
      };
    });
    expect((await put(path(id), { lost: "then found" })).status).toBe(201);
    await eventually(async () => expect(swallowed).toEqual([1]));
    await runDurableObjectAlarm(stubFor(id));
    // Not yet overdue: it stays, sent, waiting for the feed.
    expect((await outboxOf(id)).rows.map((r) => r.sent_at === null)).toEqual([false]);

    await runInDurableObject(stubFor(id), (instance) => {
      if (real !== undefined) instance.publish = real;
    });
    now += 31_000;
    await runDurableObjectAlarm(stubFor(id));
    await eventually(async () =>
      expect((await getEventual(path(id))).body).toMatchObject({ version: 1, data: { lost: "then found" } }),
    );
    await runDurableObjectAlarm(stubFor(id));
    expect((await outboxOf(id)).rows).toEqual([]);
  });

  it("carries a document near the 1 MiB limit through the queue, the projector, D1 and the change feed", async () => {
    const id = uniqueId("large");
    const data = { blob: "x".repeat(1_040_000), n: 1 };
    const created = await put(path(id), data);
    expect(created.status).toBe(201);

    await eventually(async () => {
      const read = await getEventual(path(id));
      expect(read.headers.get("read-source")).toBe("read-model");
      expect(read.body).toMatchObject({ version: 1 });
      expect((read.body as { data: typeof data }).data).toEqual(data);
    });
    // The state travelled by reference: R2 holds it, D1 holds only the reference.
    const row = await env.DB.prepare("SELECT data, data_ref FROM documents WHERE id = ?")
      .bind(id)
      .first<{ data: string | null; data_ref: string | null }>();
    expect(row?.data).toBeNull();
    expect(row?.data_ref).toMatch(/^states\/default\/outbox\//);
    const object = await env.ARCHIVE.get(row?.data_ref ?? "");
    expect(await object?.json()).toEqual(data);

    const feed = await get(`/v1/_changes?collection=${collection}&limit=1000`);
    const change = (feed.body as { changes: Array<{ id: string; data: unknown }> }).changes.find(
      (c) => c.id === id,
    );
    expect(change?.data).toEqual(data);
  });

  it("projects a large state of a document whose id is 512 bytes of non-ASCII", async () => {
    const id = "é".repeat(256);
    const data = { blob: "y".repeat(100_000) };
    expect((await put(path(id), data)).status).toBe(201);
    await eventually(async () => {
      const read = await getEventual(path(id));
      expect(read.headers.get("read-source")).toBe("read-model");
      expect((read.body as { data: typeof data }).data).toEqual(data);
    });
  });

  it("sends a backlog of non-ASCII states in batches the queue accepts (sized in bytes, not characters)", async () => {
    const id = uniqueId("cjk");
    await put(path(id), { n: 0 });
    await eventually(async () => expect((await getEventual(path(id))).body).toMatchObject({ version: 1 }));
    const repair = await breakSends(id);
    // 100 versions of ~3 KB in UTF-8 but ~1,000 characters each: counted in characters they would fit one batch.
    for (let n = 1; n <= 100; n++) await put(path(id), { n, text: "漢".repeat(1000) });
    await repair();
    await runDurableObjectAlarm(stubFor(id));
    expect((await outboxOf(id)).rows.filter((r) => r.sent_at === null)).toEqual([]);
    await eventually(async () => expect((await getEventual(path(id))).body).toMatchObject({ version: 101 }));
  });
});
