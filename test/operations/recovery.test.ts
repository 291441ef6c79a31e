/**
 * After a fault, the pipeline converges in seconds: a document whose sends failed reports its backlog, and once
 * the queue takes events again the pipeline monitor wakes it, instead of leaving it to its backoff.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { objectName } from "../../domain/keys";
import { eventually, getEventual, put, settleAlarms, uniqueId } from "../helpers";

describe("recovery after a fault", () => {
  it("reports a backed-off outbox, and the monitor's next round wakes it once probes go through", async () => {
    const key = { tenant: "default", collection: "recover", id: uniqueId("r") };
    settleAlarms(key);
    const stub = env.DOCUMENTS.get(env.DOCUMENTS.idFromName(objectName(key)));
    await put(`/v1/recover/${key.id}`, { n: 0 });
    let real: ((batch: never) => Promise<void>) | undefined;
    await runInDurableObject(stub, (instance) => {
      real = instance.deps.publish as never;
      instance.deps.publish = async () => {
        throw new Error("queue unavailable (injected)");
      };
      // The object's clock runs ten minutes ahead: its own retry comes ten minutes from now, as after a long
      // backoff, so only a wake-up can make it send within this test.
      instance.deps.clock = () => Date.now() + 600_000;
    });
    await put(`/v1/recover/${key.id}`, { n: 1 });
    await eventually(async () => {
      const reported = await env.DB.prepare("SELECT events, retry_at FROM outbox_backlog WHERE id = ?")
        .bind(key.id)
        .first<{ events: number; retry_at: number }>();
      expect(reported?.events).toBeGreaterThanOrEqual(1);
      expect(reported?.retry_at).toBeGreaterThan(Date.now());
    });
    await runInDurableObject(stub, async (instance, state) => {
      if (real !== undefined) instance.deps.publish = real as never;
      // Its alarm too is ten minutes away (the write before the fault had set one for a few seconds).
      await state.storage.setAlarm(Date.now() + 600_000);
    });
    // Left to itself, the document does not send yet.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await getEventual(`/v1/recover/${key.id}`)).body).toMatchObject({ version: 1 });
    // The queue takes events again: the monitor's round sees its probe through, and wakes the document.
    const monitor = env.PIPELINE.get(env.PIPELINE.idFromName("pipeline"));
    await monitor.lag();
    await runDurableObjectAlarm(monitor);
    await eventually(
      async () => {
        await runDurableObjectAlarm(monitor);
        expect((await getEventual(`/v1/recover/${key.id}`)).body).toMatchObject({ version: 2 });
      },
      15_000,
      500,
    );
  });

  it("keeps probing while a backlog is reported, with nobody asking (a drain after a restart has no writes)", async () => {
    const monitor = env.PIPELINE.get(env.PIPELINE.idFromName("pipeline"));
    // A monitor nobody asked for a while: its next round is its last, unless something is pending.
    await runInDurableObject(monitor, (instance) => {
      (instance as unknown as { askedAt: number }).askedAt = 0;
    });
    await env.DB.prepare("DELETE FROM outbox_backlog").run();
    await runInDurableObject(monitor, (_, state) => state.storage.setAlarm(Date.now()));
    await runDurableObjectAlarm(monitor);
    expect(await runInDurableObject(monitor, (_, state) => state.storage.getAlarm())).toBeNull();

    await env.DB.prepare(
      "INSERT INTO outbox_backlog (tenant, collection, id, events, retry_at, reported_at) VALUES ('default', 'x', ?, 3, NULL, ?)",
    )
      .bind(uniqueId("stuck"), Date.now())
      .run();
    await runInDurableObject(monitor, (_, state) => state.storage.setAlarm(Date.now()));
    await runDurableObjectAlarm(monitor);
    expect(await runInDurableObject(monitor, (_, state) => state.storage.getAlarm())).not.toBeNull();
    await env.DB.prepare("DELETE FROM outbox_backlog WHERE collection = 'x'").run();
  });
});
