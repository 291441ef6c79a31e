/**
 * The document every benchmark writes: about 200 bytes of JSON, and never the same twice. A write that stores the
 * value already stored is a no-op to SQLite (the floor's `put` of an unchanged value reaches neither the WAL nor
 * the disk), so a constant body would measure the floor doing nothing while Tessera appends an event.
 */
const STATUSES = ["open", "doing", "done"];
let sequence = 0;

/** `status` and `priority` vary as the query scenario expects; `n` makes each body unique. */
export function benchDocument(): string {
  sequence += 1;
  return JSON.stringify({
    title: "benchmark",
    status: STATUSES[Math.floor(Math.random() * STATUSES.length)],
    priority: Math.floor(Math.random() * 11),
    owner: "bench",
    n: sequence,
    pad: "x".repeat(112),
  });
}
