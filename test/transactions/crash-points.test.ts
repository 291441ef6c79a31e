/**
 * Two-phase commit's crash points, each driven directly: a coordinator that decided and stopped, a participant
 * left prepared with no decision, and prepares and commits delivered late or twice.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { DocumentRpc, Remote } from "../../domain/commands";
import { type DocumentKey, objectName } from "../../domain/keys";
import { LEASE_MS } from "../../durable-objects/participant";
import type { TransactionObject } from "../../durable-objects/TransactionObject";
import { get, put, settleAlarms, uniqueId } from "../helpers";

const keyOf = (id: string): DocumentKey => ({ tenant: "default", collection: "accounts", id });
const docStub = (key: DocumentKey) => env.DOCUMENTS.get(env.DOCUMENTS.idFromName(objectName(key)));
const participant = (key: DocumentKey) => docStub(key) as unknown as Remote<DocumentRpc>;
const coordinatorStub = (name: string) => env.TRANSACTIONS.get(env.TRANSACTIONS.idFromName(name));
const increment = (value: number) => ({
  type: "json-patch" as const,
  json: JSON.stringify([{ op: "increment", path: "/balance", value }]),
});

async function accounts(...balances: number[]): Promise<[DocumentKey, DocumentKey, ...DocumentKey[]]> {
  const keys = balances.map(() => keyOf(uniqueId("acct")));
  for (const [i, key] of keys.entries()) await put(`/v1/accounts/${key.id}`, { balance: balances[i] });
  settleAlarms(...keys);
  const [first = keyOf("none"), second = keyOf("none"), ...rest] = keys;
  return [first, second, ...rest];
}

const balanceOf = async (key: DocumentKey) =>
  (await get(`/v1/accounts/${key.id}`)).body as { version: number; data: { balance: number } };

/** Moves a document object's clock past its hold's lease, as if the coordinator had gone quiet. */
async function pastLease(key: DocumentKey): Promise<void> {
  await runInDurableObject(docStub(key), (instance) => {
    instance.deps.clock = () => Date.now() + LEASE_MS + 1_000;
  });
}

describe("two-phase commit crash points", () => {
  it("a coordinator that decided commit and stopped before committing is finished by its alarm", async () => {
    const [a, b] = await accounts(100, 0);
    const txId = uniqueId("tx");
    const name = `default/_tx/${txId}`;
    // Phase one by hand, and the decision recorded, as a run would have left them at a crash.
    for (const [key, amount] of [
      [a, -40],
      [b, 40],
    ] as const) {
      expect(
        await participant(key).prepare({
          txId,
          coordinator: name,
          key,
          body: increment(amount),
          preconditions: {},
        }),
      ).toMatchObject({
        kind: "prepared",
        version: 2,
      });
    }
    await runInDurableObject(coordinatorStub(name), (_instance: TransactionObject, state) => {
      const sql = state.storage.sql;
      sql.exec(
        `INSERT INTO tx (singleton, id, coordinator, fingerprint, state, size, created_at, expires_at, outcome)
         VALUES (1, ?, ?, 'f', 'committing', 2, ?, ?, '{"kind":"committed","txId":"x","results":[]}')`,
        txId,
        name,
        Date.now(),
        Date.now() + 60_000,
      );
      for (const [position, key] of [a, b].entries()) {
        sql.exec(
          "INSERT INTO parts (position, op_index, key, body, preconditions, prepared, version) VALUES (?, ?, ?, NULL, '{}', 2, 2)",
          position,
          position,
          JSON.stringify(key),
        );
      }
    });
    await runInDurableObject(coordinatorStub(name), (_instance, state) =>
      state.storage.setAlarm(Date.now() + 60_000),
    );
    expect(await runDurableObjectAlarm(coordinatorStub(name))).toBe(true);
    expect(await balanceOf(a)).toMatchObject({ version: 2, data: { balance: 60 } });
    expect(await balanceOf(b)).toMatchObject({ version: 2, data: { balance: 40 } });
    const state = await runInDurableObject(
      coordinatorStub(name),
      (_i, s) => s.storage.sql.exec<{ state: string }>("SELECT state FROM tx").one().state,
    );
    expect(state).toBe("committed");
  });

  it("a participant left prepared with no decision asks the coordinator when its lease ends, and is released (presumed abort)", async () => {
    const [a] = await accounts(10);
    const txId = uniqueId("tx");
    const name = `default/_tx/${txId}`;
    // A coordinator that never recorded this transaction (it crashed before its first write, or never ran).
    expect(
      await participant(a).prepare({
        txId,
        coordinator: name,
        key: a,
        body: increment(5),
        preconditions: {},
      }),
    ).toMatchObject({
      kind: "prepared",
    });
    // Held: a single write waits a second, then is refused as locked, having written nothing.
    const blocked = await put(`/v1/accounts/${a.id}`, { balance: 999 });
    expect(blocked.status).toBe(409);
    expect(blocked.headers.get("retry-after")).toBe("1");
    await pastLease(a);
    expect(await runDurableObjectAlarm(docStub(a))).toBe(true);
    expect(await balanceOf(a)).toMatchObject({ version: 1, data: { balance: 10 } });
    expect((await put(`/v1/accounts/${a.id}`, { balance: 11 })).status).toBe(200);
    // The coordinator, asked later, would still say abort; a late prepare of the same transaction does nothing.
    expect(await coordinatorStub(name).outcome(txId)).toEqual({ kind: "abort" });
    expect(
      await participant(a).prepare({
        txId,
        coordinator: name,
        key: a,
        body: increment(5),
        preconditions: {},
      }),
    ).toEqual({
      kind: "finished",
    });
    expect((await put(`/v1/accounts/${a.id}`, { balance: 12 })).status).toBe(200);
  });

  it("a coordinator still preparing when a participant's lease ends records abort first, so it can never commit after", async () => {
    const [_a] = await accounts(10);
    const txId = uniqueId("tx");
    const name = `default/_tx/${txId}`;
    await runInDurableObject(coordinatorStub(name), (_instance, state) => {
      state.storage.sql.exec(
        `INSERT INTO tx (singleton, id, coordinator, fingerprint, state, size, created_at, expires_at)
         VALUES (1, ?, ?, 'f', 'preparing', 1, ?, ?)`,
        txId,
        name,
        Date.now(),
        Date.now() + 60_000,
      );
    });
    expect(await coordinatorStub(name).outcome(txId)).toEqual({ kind: "abort" });
    const after = await runInDurableObject(coordinatorStub(name), (_i, s) =>
      s.storage.sql.exec<{ state: string; outcome: string }>("SELECT state, outcome FROM tx").one(),
    );
    expect(["aborting", "aborted"]).toContain(after.state);
    expect(JSON.parse(after.outcome)).toMatchObject({ kind: "aborted", code: "transaction-interrupted" });
    await runInDurableObject(coordinatorStub(name), (_i, s) => s.storage.deleteAlarm());
  });

  it("a duplicate commit delivered late changes nothing, and reports the version the first one wrote", async () => {
    const [a, b] = await accounts(50, 50);
    const txId = uniqueId("tx");
    const name = `default/_tx/${txId}`;
    for (const key of [a, b]) {
      await participant(key).prepare({ txId, coordinator: name, key, body: increment(1), preconditions: {} });
    }
    expect(await participant(a).commitPrepared(a, txId, 2)).toEqual({ kind: "committed", version: 2 });
    await participant(b).commitPrepared(b, txId, 2);
    // Again, late: the same answer, no new version; an abort of the committed transaction changes nothing either.
    expect(await participant(a).commitPrepared(a, txId, 2)).toEqual({ kind: "committed", version: 2 });
    expect(await participant(a).abortPrepared(a, txId)).toEqual({ kind: "committed", version: 2 });
    expect(
      await participant(a).prepare({
        txId,
        coordinator: name,
        key: a,
        body: increment(1),
        preconditions: {},
      }),
    ).toEqual({
      kind: "finished",
    });
    expect(await balanceOf(a)).toMatchObject({ version: 2, data: { balance: 51 } });
    const history = await participant(a).history(a, { after: 0, limit: 10 });
    expect(history.kind === "found" ? history.events.map((e) => [e.version, e.txId]) : []).toEqual([
      [1, undefined],
      [2, txId],
    ]);
  });

  it("an abort of a transaction that never held a document leaves another transaction's hold alone", async () => {
    const [a, b] = await accounts(10, 10);
    const holder = uniqueId("tx");
    const name = `default/_tx/${holder}`;
    await participant(a).prepare({
      txId: holder,
      coordinator: name,
      key: a,
      body: increment(1),
      preconditions: {},
    });
    // A transaction whose prepare here was refused (the document was held) aborts everywhere it sent one.
    const loser = uniqueId("tx");
    expect(await participant(a).abortPrepared(a, loser)).toEqual({ kind: "aborted" });
    // The holder's hold stands, and its commit applies; the loser's late prepare is refused.
    expect(await participant(a).commitPrepared(a, holder, 1)).toEqual({ kind: "committed", version: 2 });
    expect(
      await participant(a).prepare({
        txId: loser,
        coordinator: "x",
        key: a,
        body: increment(1),
        preconditions: {},
      }),
    ).toEqual({ kind: "finished" });
    expect(await balanceOf(a)).toMatchObject({ version: 2, data: { balance: 11 } });
    expect(await balanceOf(b)).toMatchObject({ version: 1 });
  });
});
