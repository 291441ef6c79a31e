import { describe, expect, it } from "vitest";
import { MAX_ENTRIES } from "../../domain/consistency-token";
import { eventually, get, getEventual, mergePatch, problem, put, uniqueId } from "../helpers";

const path = (id: string) => `/v1/session/${encodeURIComponent(id)}`;

describe("consistency levels", () => {
  it("returns a Consistency-Token with every write", async () => {
    const res = await put(path(uniqueId()), { n: 1 });
    expect(res.headers.get("consistency-token")).toMatch(/^t1\./);
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
