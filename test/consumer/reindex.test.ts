/** The projector recomputes the index values of events committed under another index declaration. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { indexSignature } from "../../domain/collections";
import type { EventMessage } from "../../domain/event-message";
import { reindex } from "../../workers/projector/reindex";
import { uniqueId } from "../helpers";

function event(overrides: Partial<EventMessage>): EventMessage {
  return {
    v: 1,
    tenant: "default",
    collection: "todos",
    id: uniqueId(),
    version: 1,
    type: "put",
    eventId: uniqueId("e"),
    committedAt: 1,
    createdAt: 1,
    data: JSON.stringify({ title: "t", status: "doing", priority: 7, owner: "ada", done: true }),
    index: ["stale", null, null, null],
    ...overrides,
  };
}

describe("reindex", () => {
  it("passes an event computed under the current declaration through untouched, without parsing it", async () => {
    const current = event({ ix: indexSignature("todos"), data: "not json at all" });
    expect(await reindex(current, env.ARCHIVE)).toBe(current);
  });

  it("recomputes the values of an event from another declaration, or from before signatures, from its state", async () => {
    for (const ix of ["old", undefined]) {
      const stale = event(ix === undefined ? {} : { ix });
      expect(await reindex(stale, env.ARCHIVE)).toMatchObject({
        index: ["doing", 7, "ada", 1],
        ix: indexSignature("todos"),
      });
    }
  });

  it("reads a large state from R2 to reindex it, and leaves a delete with no values", async () => {
    const ref = `states/default/todos/${uniqueId("big")}.json`;
    await env.ARCHIVE.put(ref, JSON.stringify({ title: "big", status: "open" }));
    expect(await reindex(event({ data: null, dataRef: ref, ix: "old" }), env.ARCHIVE)).toMatchObject({
      index: ["open", null, null, null],
    });
    expect(await reindex(event({ type: "delete", data: null, ix: "old" }), env.ARCHIVE)).toMatchObject({
      index: [],
      ix: indexSignature("todos"),
    });
  });
});
