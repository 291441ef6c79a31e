/** The continuous audit finds a read model broken on purpose (a row deleted, a row rolled back) and repairs it. */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runAudit } from "../../workers/audit";
import worker from "../../workers/index";
import { eventually, getEventual, put, settleAlarms, uniqueId } from "../helpers";

const row = (collection: string, id: string) =>
  env.DB.prepare("SELECT version, data FROM documents WHERE collection = ? AND id = ?")
    .bind(collection, id)
    .first<{ version: number; data: string }>();

describe("the continuous audit", () => {
  it("repairs a deleted row and a rolled-back row by having their objects send their events again", async () => {
    const collection = "audited";
    const [gone, back, fine] = [uniqueId("gone"), uniqueId("back"), uniqueId("fine")];
    settleAlarms(...[gone, back, fine].map((id) => ({ tenant: "default", collection, id })));
    await put(`/v1/${collection}/${gone}`, { v: 1 });
    await put(`/v1/${collection}/${back}`, { v: 1 });
    await put(`/v1/${collection}/${back}`, { v: 2 });
    await put(`/v1/${collection}/${fine}`, { v: 1 });
    await eventually(async () => expect((await row(collection, back))?.version).toBe(2));
    await eventually(async () => expect(await row(collection, gone)).not.toBeNull());
    await eventually(async () => expect(await row(collection, fine)).not.toBeNull());

    await env.DB.batch([
      env.DB.prepare("DELETE FROM documents WHERE collection = ? AND id = ?").bind(collection, gone),
      env.DB.prepare(
        `UPDATE documents SET version = 1, data = '{"v":1}' WHERE collection = ? AND id = ?`,
      ).bind(collection, back),
    ]);
    expect((await getEventual(`/v1/${collection}/${gone}`)).status).toBe(404);

    // A minute later, as the cron sees it: both are behind for longer than any lag explains.
    const report = await runAudit(env, { now: Date.now() + 60_000, samples: 50 });
    expect(report).toMatchObject({ mismatches: 2, repaired: 2 });
    await eventually(async () => {
      expect(await row(collection, gone)).toMatchObject({ version: 1 });
      expect(await row(collection, back)).toMatchObject({ version: 2, data: '{"v":2}' });
    });
    // Repaired, the next run finds nothing.
    expect(await runAudit(env, { now: Date.now() + 60_000, samples: 50 })).toMatchObject({ mismatches: 0 });
  });

  it("leaves alone what is only behind by the pipeline's lag", async () => {
    const id = uniqueId("fresh");
    settleAlarms({ tenant: "default", collection: "audited", id });
    await put(`/v1/audited/${id}`, { v: 1 });
    await env.DB.prepare("DELETE FROM documents WHERE collection = 'audited' AND id = ?").bind(id).run();
    await env.DB.prepare(
      "INSERT INTO changes (tenant, collection, id, version, type, event_id, committed_at, projected_at) VALUES ('default', 'audited', ?, 1, 'put', 'e', 0, 0) ON CONFLICT DO NOTHING",
    )
      .bind(id)
      .run();
    const report = await runAudit(env, { samples: 50 });
    expect(report.mismatches).toBe(0);
  });

  it("runs from the cron trigger", async () => {
    const controller = createScheduledController({ scheduledTime: new Date(), cron: "* * * * *" });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
  });
});
