import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_ENTRIES } from "../../domain/consistency-token";
import { objectName } from "../../domain/keys";
import { eventually, get, getEventual, mergePatch, problem, put, uniqueId } from "../helpers";

const path = (id: string) => `/v1/session/${encodeURIComponent(id)}`;
const stubFor = (id: string) =>
  env.DOCUMENTS.get(env.DOCUMENTS.idFromName(objectName({ tenant: "default", collection: "session", id })));

describe("consistency levels", () => {
  it("returns a Consistency-Token with every write", async () => {
    const res = await put(path(uniqueId()), { n: 1 });
    expect(res.headers.get("consistency-token")).toMatch(/^t2~/);
  });

  it("hands the client's token back on a write the document refused, so every write response carries one", async () => {
    const id = uniqueId();
    const token = (await put(path(id), { n: 1 })).headers.get("consistency-token") ?? "";
    const refused = await put(path(id), { n: 2 }, { "if-match": '"7"', "consistency-token": token });
    expect(refused.status).toBe(412);
    expect(refused.headers.get("consistency-token")).toBe(token);
  });

  it("never goes back to an older version once a read with the token has seen a newer one (monotonic reads)", async () => {
    const id = uniqueId();
    const mine = (await put(path(id), { n: 1 })).headers.get("consistency-token") ?? "";
    await eventually(async () => {
      const read = await getEventual(path(id), { "consistency-token": mine });
      expect(read.headers.get("read-source")).toBe("read-model");
    });
    // Someone else writes v2, which the read model does not have yet: its events are held back.
    await runInDurableObject(stubFor(id), (instance) => {
      instance.deps.publish = async () => {
        throw new Error("held back (injected)");
      };
    });
    expect((await put(path(id), { n: 2 })).status).toBe(200);

    // This client sees v2 from the object; the token it gets back remembers that.
    const strong = await get(path(id), { "consistency-token": mine });
    expect(strong.body).toMatchObject({ version: 2 });
    const seen = strong.headers.get("consistency-token") ?? "";
    // With the old token the read model's v1 is allowed; with the new one it is not, and the object answers.
    expect((await getEventual(path(id), { "consistency-token": mine })).body).toMatchObject({ version: 1 });
    const later = await getEventual(path(id), { "consistency-token": seen });
    expect(later.headers.get("read-source")).toBe("primary");
    expect(later.body).toMatchObject({ version: 2 });
  });

  it("never shows a client an older version than it wrote when it presents its token", async () => {
    const id = uniqueId();
    let token = "";
    for (let n = 1; n <= 15; n++) {
      const write = await (n === 1
        ? put(path(id), { n })
        : mergePatch(path(id), { n }, { "consistency-token": token }));
      token = write.headers.get("consistency-token") ?? "";
      const read = await getEventual(path(id), { "consistency-token": token });
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ version: n, data: { n } });
      expect(["primary", "read-model"]).toContain(read.headers.get("read-source"));
    }
  });

  it("answers from the read model once it has caught up with the token", async () => {
    const id = uniqueId();
    const write = await put(path(id), { n: 1 });
    const token = write.headers.get("consistency-token") ?? "";
    await eventually(async () => {
      const read = await getEventual(path(id), { "consistency-token": token });
      expect(read.headers.get("read-source")).toBe("read-model");
      expect(read.body).toMatchObject({ version: 1 });
    });
  });

  it("serves eventual reads from the read model, which converges, and strong reads from the object", async () => {
    const id = uniqueId();
    await put(path(id), { n: 1 });
    const strong = await get(path(id));
    expect(strong.headers.get("read-source")).toBe("primary");
    expect(
      (await get(`${path(id)}?consistency=strong`, { consistency: "" })).headers.get("read-source"),
    ).toBe("primary");
    await eventually(async () => {
      const eventual = await getEventual(path(id));
      expect(eventual.headers.get("read-source")).toBe("read-model");
      expect(eventual.body).toMatchObject({ version: 1, data: { n: 1 } });
    });
  });

  it("keeps the token bounded across many writes and sends reads of evicted documents to the object", async () => {
    const ids = Array.from({ length: MAX_ENTRIES + 20 }, () => uniqueId("many"));
    let token = "";
    for (const id of ids) {
      const write = await put(path(id), { id }, token === "" ? {} : { "consistency-token": token });
      token = write.headers.get("consistency-token") ?? "";
    }
    expect(token.length).toBeLessThan(2000);
    const [oldest = ""] = ids;
    await mergePatch(path(oldest), { again: true }, { "consistency-token": token });
    // ids[1] was evicted from the token's entries: only its object can vouch for it.
    const read = await getEventual(path(ids[1] ?? ""), { "consistency-token": token });
    expect(read.status).toBe(200);
    expect(read.headers.get("read-source")).toBe("primary");
    expect(read.body).toMatchObject({ version: 1 });
  });

  it("answers 400 for a token it did not issue and for an unknown consistency level", async () => {
    const id = uniqueId();
    await put(path(id), { n: 1 });
    const forged = await getEventual(path(id), { "consistency-token": "not-a-token" });
    expect(forged.status).toBe(400);
    expect(problem(forged).code).toBe("invalid-consistency-token");
    const level = await getEventual(path(id), { consistency: "linearizable-ish" });
    expect(problem(level)).toMatchObject({ status: 400, code: "invalid-consistency" });
  });
});
