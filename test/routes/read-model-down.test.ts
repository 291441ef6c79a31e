import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { readModelBreaker } from "../../workers/read-model/read-source";
import { eventually, getEventual, problem, put, uniqueId } from "../helpers";

// This file breaks its own D1 on purpose (storage is isolated per file).
describe("when the read model fails", () => {
  it("falls back to the object for single reads, opens the breaker, and answers queries 503 with Retry-After", async () => {
    const id = uniqueId();
    await put(`/v1/todos/${id}`, { title: "survive", owner: "down" });
    await eventually(async () =>
      expect((await getEventual(`/v1/todos/${id}`)).headers.get("read-source")).toBe("read-model"),
    );

    await env.DB.exec("DROP TABLE documents");

    for (let i = 0; i < 3; i++) {
      const read = await getEventual(`/v1/todos/${id}`);
      expect(read.status).toBe(200);
      expect(read.headers.get("read-source")).toBe("primary");
      expect(read.body).toMatchObject({ data: { title: "survive" } });
    }
    expect(readModelBreaker.allow()).toBe(false);

    const query = await getEventual("/v1/todos?where[owner]=down");
    expect(query.status).toBe(503);
    expect(problem(query).code).toBe("read-model-unavailable");
    expect(Number(query.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });
});
