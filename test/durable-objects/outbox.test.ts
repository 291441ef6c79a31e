import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { objectName } from "../../domain/keys";
import type { DocumentObject } from "../../durable-objects/DocumentObject";
import { CONFIRM_AFTER_MS, CONFIRM_POLL_MS } from "../../durable-objects/outbox/outbox";
import { documentStub } from "../../workers/documents-client";
import { eventually, get, getEventual, put, settleAlarms, uniqueId } from "../helpers";
import { requestFor } from "../write-requests";

const collection = "outbox";
const path = (id: string) => `/v1/${collection}/${encodeURIComponent(id)}`;

function stubFor(id: string): DurableObjectStub<DocumentObject> {
  return env.DOCUMENTS.get(env.DOCUMENTS.idFromName(objectName({ tenant: "default", collection, id })));
}

/** A document id for this test, whose object's alarm is deleted when the test finishes. */
function documentId(prefix?: string): string {
  const id = uniqueId(prefix);
  settleAlarms({ tenant: "default", collection, id });
  return id;
}

/** The versions waiting in the outbox (above the confirmed mark, and its holes), its counters, and the alarm. */
function outboxOf(id: string) {
  return runInDurableObject(stubFor(id), async (instance, state) => ({
    rows: state.storage.sql
      .exec<{ version: number }>(
        `SELECT version FROM events WHERE version > (SELECT confirmed_through FROM meta)
         UNION SELECT version FROM holes ORDER BY version`,
      )
      .toArray()
      .map((r) => r.version),
    status: instance.outboxStatus(),
    alarm: await state.storage.getAlarm(),
    /** The version through which the change feed is confirmed (meta.confirmed_through). */
    mark: state.storage.sql.exec<{ mark: number }>("SELECT confirmed_through AS mark FROM meta").one().mark,
  }));
}

/** Moves the object's clock past the quiet window, as if no write had come for a poll interval. */
function quietFor(id: string): Promise<void> {
  return runInDurableObject(stubFor(id), (instance) => {
    instance.deps.clock = () => Date.now() + CONFIRM_POLL_MS;
  });
}

/** Makes the object's change feed record each question it is asked (`runs 3-4`, `holds 2,7`) in `asked`. */
function recordQuestions(instance: DocumentObject, asked: string[]): void {
  const real = instance.deps.changeFeed;
  instance.deps.changeFeed = {
    holds: (k, versions) => {
      asked.push(`holds ${versions.join(",")}`);
      return real.holds(k, versions);
    },
    runs: (k, from, to, limit) => {
      asked.push(`runs ${from}-${to}`);
      return real.runs(k, from, to, limit);
    },
  };
}

/** Makes the object's queue sends fail until the returned function is called. */
async function breakSends(id: string): Promise<() => Promise<void>> {
  let original: DocumentObject["deps"]["publish"] | undefined;
  await runInDurableObject(stubFor(id), (instance) => {
    original = instance.deps.publish;
    instance.deps.publish = async () => {
      throw new Error("queue unavailable (injected)");
    };
  });
  return () =>
    runInDurableObject(stubFor(id), (instance) => {
      if (original !== undefined) instance.deps.publish = original;
    });
}

describe("outbox", () => {
  it("keeps events whose send failed, answers the client anyway, and delivers them when sends recover", async () => {
    const id = documentId();
    await put(path(id), { n: 0 });
    await eventually(async () => expect((await getEventual(path(id))).body).toMatchObject({ version: 1 }));
    const repair = await breakSends(id);

    for (let n = 1; n <= 3; n++) expect((await put(path(id), { n })).status).toBe(200);
    await eventually(async () => {
      const { rows, status } = await outboxOf(id);
      expect(rows.filter((v) => v > 1)).toEqual([2, 3, 4]);
      expect(status).toMatchObject({ unsent: 3, failures: 1 });
    });
    // The retry waits for its backoff, and the alarm is set for it.
    const { alarm, status } = await outboxOf(id);
    expect(status?.retryAt).not.toBeNull();
    expect(alarm).not.toBeNull();
    expect(alarm ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(status?.retryAt ?? 0);
    // The read model is stuck at the last version that was sent.
    expect((await getEventual(path(id))).body).toMatchObject({ version: 1 });

    await repair();
    expect(await runDurableObjectAlarm(stubFor(id))).toBe(true);
    expect((await outboxOf(id)).status).toMatchObject({ unsent: 0, failures: 0, retryAt: null });
    await eventually(async () => {
      const read = await getEventual(path(id));
      expect(read.headers.get("read-source")).toBe("read-model");
      expect(read.body).toMatchObject({ version: 4, data: { n: 3 } });
    });
    // Once the change feed holds them and the document has gone quiet, the next alarm confirms them, committing
    // nothing: the mark reaches storage with the next write's commit.
    await quietFor(id);
    await runDurableObjectAlarm(stubFor(id));
    expect(await outboxOf(id)).toMatchObject({
      rows: [1, 2, 3, 4],
      status: { unsent: 0, unconfirmed: 0, confirmedThrough: 4 },
    });
    expect((await put(path(id), { n: 4 })).status).toBe(200);
    expect(await outboxOf(id)).toMatchObject({ mark: 4, rows: [5] });
  });

  it("answers the client while a queue send hangs, counts the hung send as failed after its timeout, and delivers later", async () => {
    const id = documentId("hang");
    let hung = 0;
    let real: DocumentObject["deps"]["publish"] | undefined;
    await runInDurableObject(stubFor(id), (instance) => {
      real = instance.deps.publish;
      instance.deps.sendTimeoutMs = 50;
      instance.deps.publish = () => {
        hung += 1;
        return new Promise<void>(() => {});
      };
    });
    // The commit is the answer: the send that never returns is not waited for.
    expect((await put(path(id), { n: 1 })).status).toBe(201);
    expect(hung).toBe(1);
    await eventually(async () =>
      expect((await outboxOf(id)).status).toMatchObject({ unsent: 1, failures: 1 }),
    );

    await runInDurableObject(stubFor(id), (instance) => {
      if (real !== undefined) instance.deps.publish = real;
    });
    await runDurableObjectAlarm(stubFor(id));
    await eventually(async () =>
      expect((await getEventual(path(id))).body).toMatchObject({ version: 1, data: { n: 1 } }),
    );
  });

  it("leaves the retry to the alarm while a failed send backs off, instead of trying on every write", async () => {
    const id = documentId("backoff");
    // An hour ahead of the runtime's clock, so that no alarm this test sets comes due while it runs.
    let now = Date.now() + 3_600_000;
    let attempts = 0;
    await runInDurableObject(stubFor(id), (instance) => {
      instance.deps.clock = () => now;
      instance.deps.publish = async () => {
        attempts += 1;
        throw new Error("queue unavailable (injected)");
      };
    });
    expect((await put(path(id), { n: 0 })).status).toBe(201);
    await eventually(async () => expect((await outboxOf(id)).status).toMatchObject({ failures: 1 }));
    const retryAt = (await outboxOf(id)).status?.retryAt ?? 0;
    expect(retryAt).toBeGreaterThan(now);

    for (let n = 1; n <= 5; n++) expect((await put(path(id), { n })).status).toBe(200);
    expect(attempts).toBe(1);
    // The alarm still stands at the retry (a write did not pull it in, nor push it out).
    expect((await outboxOf(id)).alarm).toBe(retryAt);

    now = retryAt + 1;
    expect((await put(path(id), { n: 6 })).status).toBe(200);
    await eventually(async () => expect(attempts).toBe(2));
    expect((await outboxOf(id)).status).toMatchObject({ unsent: 7, failures: 2 });
  });

  it("sends what a crash between commit and send left behind, from the alarm of the restarted object, once it asked the feed", async () => {
    const id = documentId();
    await breakSends(id);
    expect((await put(path(id), { survived: true })).status).toBe(201);
    await eventually(async () =>
      expect((await outboxOf(id)).status).toMatchObject({ unsent: 1, failures: 1 }),
    );

    // The object is reset: memory (and the broken publisher) gone, SQLite and the alarm kept.
    await abortAllDurableObjects();
    const sent: number[] = [];
    await runInDurableObject(stubFor(id), (instance) => {
      const real = instance.deps.publish;
      instance.deps.publish = async (batch) => {
        sent.push(...batch.map((m) => m.version));
        await real(batch);
      };
    });
    // The new incarnation cannot know whether version 1 was sent: nothing goes until the feed is asked.
    const restarted = await outboxOf(id);
    expect(restarted.alarm).not.toBeNull();
    expect(restarted.status).toMatchObject({ unsent: 0, unconfirmed: 1, failures: 0 });
    expect(sent).toEqual([]);
    expect(await runDurableObjectAlarm(stubFor(id))).toBe(true);
    expect(sent).toEqual([1]);
    await eventually(async () =>
      expect((await getEventual(path(id))).body).toMatchObject({ version: 1, data: { survived: true } }),
    );
  });

  it("does not send again, after a restart, what the change feed already holds", async () => {
    const id = documentId("known");
    for (let n = 1; n <= 3; n++) expect((await put(path(id), { n })).status).toBe(n === 1 ? 201 : 200);
    await eventually(async () => expect((await getEventual(path(id))).body).toMatchObject({ version: 3 }));
    // Reset before any alarm confirmed them: storage says all three wait.
    await abortAllDurableObjects();
    const sent: number[] = [];
    await runInDurableObject(stubFor(id), (instance) => {
      const real = instance.deps.publish;
      instance.deps.publish = async (batch) => {
        sent.push(...batch.map((m) => m.version));
        await real(batch);
      };
    });
    expect(await outboxOf(id)).toMatchObject({ rows: [1, 2, 3], status: { unsent: 0, unconfirmed: 3 } });
    // A write sends only its own event; the alarm finds the three in the feed and sends nothing again.
    expect((await put(path(id), { n: 4 })).status).toBe(200);
    await eventually(async () => expect(sent).toEqual([4]));
    await eventually(async () => expect((await getEventual(path(id))).body).toMatchObject({ version: 4 }));
    await runDurableObjectAlarm(stubFor(id));
    expect(sent).toEqual([4]);
    expect((await outboxOf(id)).status).toMatchObject({ unsent: 0, unconfirmed: 0, confirmedThrough: 4 });
  });

  it("sends again an event the queue accepted but lost, once the change feed still lacks it", async () => {
    const id = documentId();
    let real: DocumentObject["deps"]["publish"] | undefined;
    const swallowed: number[] = [];
    let now = Date.now();
    await runInDurableObject(stubFor(id), (instance) => {
      real = instance.deps.publish;
      instance.deps.clock = () => now;
      // The queue says yes and then loses the message, as Miniflare's in-memory queue does on a restart.
      instance.deps.publish = async (batch) => {
        swallowed.push(...batch.map((m) => m.version));
      };
    });
    expect((await put(path(id), { lost: "then found" })).status).toBe(201);
    await eventually(async () => expect(swallowed).toEqual([1]));
    await runDurableObjectAlarm(stubFor(id));
    // Not yet overdue: it stays, sent, waiting for the feed.
    expect(await outboxOf(id)).toMatchObject({ rows: [1], status: { unsent: 0, unconfirmed: 1 } });

    await runInDurableObject(stubFor(id), (instance) => {
      if (real !== undefined) instance.deps.publish = real;
    });
    now += 31_000;
    await runDurableObjectAlarm(stubFor(id));
    await eventually(async () =>
      expect((await getEventual(path(id))).body).toMatchObject({ version: 1, data: { lost: "then found" } }),
    );
    await runDurableObjectAlarm(stubFor(id));
    expect((await outboxOf(id)).rows).toEqual([]);
  });

  it("passes an event the feed lacks with its confirmed mark, keeps it as a hole across a restart, and sends again only it", async () => {
    const id = documentId("gap");
    const sent: number[] = [];
    let now = Date.now();
    await runInDurableObject(stubFor(id), (instance) => {
      const real = instance.deps.publish;
      instance.deps.clock = () => now;
      // The queue accepts version 2 and loses it, three times; everything else arrives.
      let lost = 0;
      instance.deps.publish = async (batch) => {
        sent.push(...batch.map((m) => m.version));
        const kept = batch.filter((m) => {
          if (m.version !== 2 || lost === 3) return true;
          lost += 1;
          return false;
        });
        if (kept.length > 0) await real(kept);
      };
    });
    const feed = async () =>
      (
        await env.DB.prepare("SELECT version FROM changes WHERE id = ? ORDER BY version")
          .bind(id)
          .all<{ version: number }>()
      ).results.map((r) => r.version);
    for (let n = 1; n <= 3; n++) expect((await put(path(id), { n })).status).toBe(n === 1 ? 201 : 200);
    await eventually(async () => expect(await feed()).toEqual([1, 3]));
    now += CONFIRM_POLL_MS;
    await runDurableObjectAlarm(stubFor(id));
    // 1 and 3 are confirmed; 2 is not overdue yet, so the mark waits below it, in memory (nothing to commit).
    expect(await outboxOf(id)).toMatchObject({
      mark: 0,
      rows: [1, 2, 3],
      status: { unsent: 0, unconfirmed: 1, confirmedThrough: 1 },
    });

    sent.length = 0;
    now += 31_000;
    await runDurableObjectAlarm(stubFor(id));
    // Overdue: 2 goes again (and is lost again) and the mark passes it, keeping it as a hole. 3 does not go again.
    await eventually(async () => expect(sent).toEqual([2]));
    expect((await outboxOf(id)).mark).toBe(3);
    expect(await outboxOf(id)).toMatchObject({ rows: [2], status: { unsent: 0, unconfirmed: 1 } });

    // Still missing after the doubled wait: the hole is asked about and sent again (and lost a third time).
    sent.length = 0;
    now += 61_000;
    await runDurableObjectAlarm(stubFor(id));
    await eventually(async () => expect(sent).toEqual([2]));
    expect(await outboxOf(id)).toMatchObject({ rows: [2], status: { unsent: 0, unconfirmed: 1 } });

    // A restart forgets what memory held; the hole is in storage, and only it is sent again, once the feed was
    // asked and still lacks it.
    await abortAllDurableObjects();
    const resent: number[] = [];
    await runInDurableObject(stubFor(id), (instance) => {
      const real = instance.deps.publish;
      instance.deps.publish = async (batch) => {
        resent.push(...batch.map((m) => m.version));
        await real(batch);
      };
    });
    expect((await outboxOf(id)).status).toMatchObject({ unsent: 0, unconfirmed: 1 });
    expect(await runDurableObjectAlarm(stubFor(id))).toBe(true);
    expect(resent).toEqual([2]);
    await eventually(async () => expect(await feed()).toEqual([1, 2, 3]));
    await runDurableObjectAlarm(stubFor(id));
    expect((await outboxOf(id)).mark).toBe(3);
    expect(await outboxOf(id)).toMatchObject({ rows: [], status: { unsent: 0, unconfirmed: 0 } });
  });

  it("confirms a burst larger than a pass with one question to the change feed, and commits nothing for it", async () => {
    const id = uniqueId("burst");
    // A collection of its own: 1,200 changes would push other tests' changes off a feed page.
    const key = { tenant: "default", collection: "outbox-burst", id };
    settleAlarms(key);
    const object = () => env.DOCUMENTS.get(env.DOCUMENTS.idFromName(objectName(key)));
    const asked: string[] = [];
    await runInDurableObject(object(), (instance) => recordQuestions(instance, asked));
    // 1,200 writes racing: group commit applies them in a few turns, and the outbox sends them in batches.
    const stub = documentStub(env.DOCUMENTS, key);
    await Promise.all(
      Array.from({ length: 1200 }, (_, n) => stub.write(requestFor(key, { type: "put", data: { n } }))),
    );
    const projected = async () =>
      (await env.DB.prepare("SELECT count(*) AS n FROM changes WHERE id = ?").bind(id).first<{ n: number }>())
        ?.n;
    await eventually(async () => expect(await projected()).toBe(1200), 20_000);
    await runInDurableObject(object(), (instance) => {
      instance.deps.clock = () => Date.now() + CONFIRM_POLL_MS;
    });
    await runDurableObjectAlarm(object());
    expect(asked).toEqual(["runs 1-1200"]);
    const after = await runInDurableObject(object(), async (instance, state) => ({
      mark: state.storage.sql.exec("SELECT confirmed_through AS m FROM meta").one().m,
      status: instance.outboxStatus(),
      alarm: await state.storage.getAlarm(),
    }));
    // Nothing is outstanding, so the alarm is not set again; the mark waits in memory for the next write.
    expect(after).toMatchObject({
      mark: 0,
      status: { unsent: 0, unconfirmed: 0, confirmedThrough: 1200 },
      alarm: null,
    });
  });

  it("leaves the change feed alone while the document is busy, and asks once it goes quiet or an event is due", async () => {
    const id = documentId("busy");
    const asked: string[] = [];
    let now = Date.now();
    await runInDurableObject(stubFor(id), (instance) => {
      instance.deps.clock = () => now;
      recordQuestions(instance, asked);
    });
    const projected = async () =>
      (await env.DB.prepare("SELECT count(*) AS n FROM changes WHERE id = ?").bind(id).first<{ n: number }>())
        ?.n;
    expect((await put(path(id), { n: 1 })).status).toBe(201);
    now += 1_000;
    expect((await put(path(id), { n: 2 })).status).toBe(200);
    await eventually(async () => expect(await projected()).toBe(2));

    // Written a moment ago and nothing due: the poll passes without a question, and comes back a poll later.
    await runDurableObjectAlarm(stubFor(id));
    expect(asked).toEqual([]);
    expect(await outboxOf(id)).toMatchObject({
      status: { unsent: 0, unconfirmed: 2 },
      alarm: now + CONFIRM_POLL_MS,
    });

    // Quiet for a poll interval: one question confirms both.
    now += CONFIRM_POLL_MS;
    await runDurableObjectAlarm(stubFor(id));
    expect(asked).toEqual(["runs 1-2"]);
    expect((await outboxOf(id)).status).toMatchObject({ unconfirmed: 0, confirmedThrough: 2 });

    // Busy again, but version 3 was sent long enough ago that, were it missing, it would go again: asked.
    expect((await put(path(id), { n: 3 })).status).toBe(200);
    await eventually(async () => expect(await projected()).toBe(3));
    now += CONFIRM_AFTER_MS;
    expect((await put(path(id), { n: 4 })).status).toBe(200);
    await eventually(async () => expect(await projected()).toBe(4));
    await runDurableObjectAlarm(stubFor(id));
    expect(asked).toEqual(["runs 1-2", "runs 3-4"]);
    expect((await outboxOf(id)).status).toMatchObject({ unconfirmed: 0, confirmedThrough: 4 });

    // After a restart, busy at once: whether the earlier incarnation sent version 5 is not known, so it asks
    // (from the mark that version 5 stored with its commit).
    expect((await put(path(id), { n: 5 })).status).toBe(200);
    // Its send is done: one cut off by the reset would only add the queue broker's complaint to the output.
    await eventually(async () => expect((await outboxOf(id)).status).toMatchObject({ unsent: 0 }));
    await abortAllDurableObjects();
    const again: string[] = [];
    await runInDurableObject(stubFor(id), (instance) => {
      instance.deps.clock = () => now;
      recordQuestions(instance, again);
    });
    expect((await put(path(id), { n: 6 })).status).toBe(200);
    await runDurableObjectAlarm(stubFor(id));
    expect(again).toEqual(["runs 5-6"]);
  });

  it("keeps the poll pace while the projector is only behind, and backs off once an event is overdue", async () => {
    const id = documentId("pace");
    const sent: number[] = [];
    let now = Date.now();
    await runInDurableObject(stubFor(id), (instance) => {
      instance.deps.clock = () => now;
      instance.deps.publish = async (batch) => {
        sent.push(...batch.map((m) => m.version));
      };
      // A projector far behind: the feed holds nothing yet.
      instance.deps.changeFeed = { holds: async () => new Set(), runs: async () => [] };
    });
    expect((await put(path(id), { n: 1 })).status).toBe(201);
    await eventually(async () => expect(sent).toEqual([1]));

    // Asked and not found, but sent a moment ago: the next poll comes at the usual pace, again and again.
    for (let poll = 0; poll < 3; poll++) {
      now += CONFIRM_POLL_MS;
      await runDurableObjectAlarm(stubFor(id));
      expect((await outboxOf(id)).alarm).toBe(now + CONFIRM_POLL_MS);
    }
    expect(sent).toEqual([1]);

    // Overdue: sent again, and from now on each poll that finds nothing waits twice as long as the last.
    now += CONFIRM_AFTER_MS;
    await runDurableObjectAlarm(stubFor(id));
    expect(sent).toEqual([1, 1]);
    expect((await outboxOf(id)).alarm).toBe(now + 2 * CONFIRM_POLL_MS);
    now += 2 * CONFIRM_POLL_MS;
    await runDurableObjectAlarm(stubFor(id));
    expect((await outboxOf(id)).alarm).toBe(now + 4 * CONFIRM_POLL_MS);
  });

  it("keeps confirming above the mark while hundreds of holes wait, and asks about every hole in turn", async () => {
    const id = documentId("holes");
    const key = { tenant: "default", collection, id };
    // An hour ahead of the runtime's clock, so that the alarm only runs when the test runs it.
    let now = Date.now() + 3_600_000;
    let lose601 = true;
    const sent: number[] = [];
    const accepted = new Set<number>();
    await runInDurableObject(stubFor(id), (instance) => {
      const real = instance.deps.publish;
      instance.deps.clock = () => now;
      // Versions up to 550 are poisoned: the queue accepts them and they never arrive. 601 is lost once.
      instance.deps.publish = async (batch) => {
        sent.push(...batch.map((m) => m.version));
        const kept = batch.filter((m) => {
          if (m.version <= 550) return false;
          if (m.version === 601 && lose601) {
            lose601 = false;
            return false;
          }
          return true;
        });
        if (kept.length > 0) await real(kept);
        for (const m of kept) accepted.add(m.version);
      };
    });
    /** Waits until the outbox sent what it had to and the change feed holds every event the queue kept. */
    const caughtUp = () =>
      eventually(async () => {
        expect((await outboxOf(id)).status).toMatchObject({ unsent: 0 });
        const { results } = await env.DB.prepare("SELECT version FROM changes WHERE id = ?")
          .bind(id)
          .all<{ version: number }>();
        const held = new Set(results.map((r) => r.version));
        expect([...accepted].filter((v) => !held.has(v))).toEqual([]);
      });
    const stub = documentStub(env.DOCUMENTS, key);
    for (let n = 1; n <= 601; n++) await stub.write(requestFor(key, { type: "put", data: { n } }));
    const sends = (v: number) => sent.filter((s) => s === v).length;
    await eventually(async () => expect(sends(601)).toBe(1));
    // Each round's confirmation sees what the previous ones sent, as it would after two minutes' wait.
    await caughtUp();
    for (let round = 0; round < 10; round++) {
      now += 121_000;
      await runDurableObjectAlarm(stubFor(id));
      await caughtUp();
    }
    // The 550 holes do not starve the events above the mark: 601 was found missing and sent again, and it and
    // everything from 551 on reached the feed, while the mark passed the holes.
    await eventually(async () => {
      await runDurableObjectAlarm(stubFor(id));
      expect(await outboxOf(id)).toMatchObject({ status: { unsent: 0, unconfirmed: 550 } });
    });
    expect((await outboxOf(id)).rows).toEqual(Array.from({ length: 550 }, (_, i) => i + 1));
    expect(sends(601)).toBeGreaterThanOrEqual(2);
    // Every hole was asked about in turn and sent again more than once, not only the first few hundred.
    expect(Math.min(...Array.from({ length: 550 }, (_, i) => sends(i + 1)))).toBeGreaterThanOrEqual(3);
  });

  it("carries a document near the 1 MiB limit through the queue, the projector, D1 and the change feed", async () => {
    const id = documentId("large");
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
    settleAlarms({ tenant: "default", collection, id });
    const data = { blob: "y".repeat(100_000) };
    expect((await put(path(id), data)).status).toBe(201);
    await eventually(async () => {
      const read = await getEventual(path(id));
      expect(read.headers.get("read-source")).toBe("read-model");
      expect((read.body as { data: typeof data }).data).toEqual(data);
    });
  });

  it("sends a backlog of non-ASCII states in batches the queue accepts (sized in bytes, not characters)", async () => {
    const id = documentId("cjk");
    await put(path(id), { n: 0 });
    await eventually(async () => expect((await getEventual(path(id))).body).toMatchObject({ version: 1 }));
    const repair = await breakSends(id);
    // 100 versions of ~3 KB in UTF-8 but ~1,000 characters each: counted in characters they would fit one batch.
    for (let n = 1; n <= 100; n++) await put(path(id), { n, text: "漢".repeat(1000) });
    await repair();
    await runDurableObjectAlarm(stubFor(id));
    expect((await outboxOf(id)).status).toMatchObject({ unsent: 0 });
    await eventually(async () => expect((await getEventual(path(id))).body).toMatchObject({ version: 101 }));
  });
});
