/**
 * Transactions in the read model: all at once or not at all. The queue delivers a transaction's writes in any
 * order and batch, so the projector holds them (D1 `held_events`) until every one has arrived, then applies them
 * in one D1 batch, one after another in the change feed. A later event of a participant carries the transaction's
 * effect in its state, so it is held too until the write it builds on is in the feed: each event names the newest
 * earlier transaction write the feed may not have had when it committed (`txBefore`). Nothing waits forever: the
 * outbox sends every event until the feed holds it, so a transaction's last write always comes.
 *
 * Most events are neither (no transaction, nothing to wait for) and cost nothing here.
 */
import type { EventMessage } from "../../domain/event-message";
import { objectName } from "../../domain/keys";
import { jsonChunks } from "./projections/types";

/** Whether an event needs this module: a write of a transaction over several documents, or one that builds on one. */
export function needsOrdering(event: EventMessage): boolean {
  return (event.txSize ?? 1) > 1 || event.txBefore !== undefined;
}

const at = (e: Pick<EventMessage, "tenant" | "collection" | "id">, version: number) =>
  `${objectName(e)}@${version}`;
const keyOf = (e: EventMessage) => at(e, e.version);

/** What a batch does with its ordered events: apply some now, hold some, forget the duplicates. */
export interface Settlement {
  /** Events to apply now, in feed order: what each builds on before it, a transaction's writes together. */
  readonly apply: EventMessage[];
  /** Statements that hold or release events, for the same D1 batch as the application. */
  readonly statements: D1PreparedStatement[];
}

interface HeldRow {
  body: string;
}

/** Of these (document, version) keys, the ones the change feed holds. */
async function inFeed(db: D1Database, keys: readonly string[]): Promise<Set<string>> {
  const rows: Array<[string, string, string, number]> = [];
  for (const key of keys) {
    const [name = "", version = "0"] = key.split("@");
    const [tenant = "", collection = "", ...id] = name.split("/");
    rows.push([tenant, collection, id.join("/"), Number(version)]);
  }
  const found = new Set<string>();
  for (let i = 0; i < rows.length; i += 400) {
    const { results } = await db
      .prepare(
        `SELECT c.tenant, c.collection, c.id, c.version FROM json_each(?1) AS k
         JOIN changes AS c ON c.tenant = k.value ->> '$[0]' AND c.collection = k.value ->> '$[1]'
           AND c.id = k.value ->> '$[2]' AND c.version = k.value ->> '$[3]'`,
      )
      .bind(JSON.stringify(rows.slice(i, i + 400)))
      .all<{ tenant: string; collection: string; id: string; version: number }>();
    for (const r of results) found.add(at(r, r.version));
  }
  return found;
}

/** Held events of these transactions or these documents (the ones not already among `known`). */
async function loadHeld(
  db: D1Database,
  txs: ReadonlyArray<readonly [string, string]>,
  docs: ReadonlyArray<readonly [string, string, string]>,
): Promise<EventMessage[]> {
  if (txs.length === 0 && docs.length === 0) return [];
  const { results } = await db
    .prepare(
      `SELECT body FROM held_events WHERE (tenant, tx_id) IN (SELECT value ->> '$[0]', value ->> '$[1]' FROM json_each(?1))
       UNION SELECT body FROM held_events WHERE (tenant, collection, id) IN
         (SELECT value ->> '$[0]', value ->> '$[1]', value ->> '$[2]' FROM json_each(?2))`,
    )
    .bind(JSON.stringify(txs), JSON.stringify(docs))
    .all<HeldRow>();
  return results.map((r) => JSON.parse(r.body) as EventMessage);
}

/**
 * Decides what `ordered` (events that need ordering) and the events already held for the same transactions and
 * documents can do now. `applied` holds the keys applied in this batch regardless (the events that need no
 * ordering), which count as in the feed.
 */
export async function settle(
  db: D1Database,
  ordered: readonly EventMessage[],
  applied: ReadonlySet<string>,
  heldAt: number,
): Promise<Settlement> {
  const candidates = new Map<string, EventMessage>();
  const incoming = new Set<string>();
  /** Keys held in D1 (an event may be both: delivered again while held). */
  const stored = new Set<string>();
  for (const e of ordered) {
    candidates.set(keyOf(e), e);
    incoming.add(keyOf(e));
  }
  const feed = new Set<string>();
  const asked = new Set<string>();
  const loadedTxs = new Set<string>();
  const loadedDocs = new Set<string>();
  const released = new Map<string, EventMessage>();
  const apply: EventMessage[] = [];

  const has = (key: string) => feed.has(key) || applied.has(key) || released.has(key);
  // At most a few rounds: each loads the held events a release may have freed, on documents not seen yet.
  for (let round = 0; round < 16; round++) {
    const txs: Array<[string, string]> = [];
    const docs: Array<[string, string, string]> = [];
    for (const e of candidates.values()) {
      if (e.txId !== undefined && (e.txSize ?? 1) > 1 && !loadedTxs.has(`${e.tenant}/${e.txId}`)) {
        loadedTxs.add(`${e.tenant}/${e.txId}`);
        txs.push([e.tenant, e.txId]);
      }
      if (!loadedDocs.has(objectName(e))) {
        loadedDocs.add(objectName(e));
        docs.push([e.tenant, e.collection, e.id]);
      }
    }
    const known = candidates.size;
    for (const e of await loadHeld(db, txs, docs)) {
      stored.add(keyOf(e));
      if (!candidates.has(keyOf(e))) candidates.set(keyOf(e), e);
    }
    const grew = candidates.size > known;
    const questions = new Set<string>();
    for (const e of candidates.values()) {
      questions.add(keyOf(e));
      if (e.txBefore !== undefined) questions.add(at(e, e.txBefore));
    }
    const unasked = [...questions].filter((q) => !asked.has(q));
    for (const q of unasked) asked.add(q);
    for (const k of await inFeed(db, unasked)) feed.add(k);

    // Release to a fixed point: a plain event once what it builds on is there; a transaction once all of its
    // writes are here and each one's basis is there.
    const before = released.size;
    for (let progress = true; progress; ) {
      progress = false;
      const byTx = new Map<string, EventMessage[]>();
      for (const [key, e] of candidates) {
        if (released.has(key) || feed.has(key)) continue;
        const ready = e.txBefore === undefined || has(at(e, e.txBefore));
        if ((e.txSize ?? 1) <= 1 || e.txId === undefined) {
          if (ready) {
            released.set(key, e);
            apply.push(e);
            progress = true;
          }
          continue;
        }
        const tx = `${e.tenant}/${e.txId}`;
        byTx.set(tx, [...(byTx.get(tx) ?? []), e]);
      }
      for (const parts of byTx.values()) {
        const size = parts[0]?.txSize ?? 0;
        const ready = parts.every((e) => e.txBefore === undefined || has(at(e, e.txBefore)));
        if (parts.length === size && ready) {
          for (const e of parts) released.set(keyOf(e), e);
          apply.push(...parts);
          progress = true;
        }
      }
    }
    // Done when a round neither released anything nor brought in held events whose transactions and documents
    // are still to be loaded: a loaded event may complete a transaction only the next round can see.
    if (released.size === before && !grew) break;
  }

  // A transaction of which some write is already in the feed was applied whole before: the rest are duplicates.
  const txInFeed = new Set<string>();
  for (const [key, e] of candidates)
    if (feed.has(key) && e.txId !== undefined) txInFeed.add(`${e.tenant}/${e.txId}`);
  const statements: D1PreparedStatement[] = [];
  const forget: Array<[string, string, string, number]> = [];
  const hold: unknown[][] = [];
  for (const [key, e] of candidates) {
    const done =
      released.has(key) || feed.has(key) || (e.txId !== undefined && txInFeed.has(`${e.tenant}/${e.txId}`));
    if (done && stored.has(key)) forget.push([e.tenant, e.collection, e.id, e.version]);
    if (!done && incoming.has(key) && !stored.has(key)) {
      hold.push([
        e.tenant,
        e.collection,
        e.id,
        e.version,
        e.txId ?? null,
        e.txSize ?? null,
        JSON.stringify(e),
      ]);
    }
  }
  for (const json of jsonChunks(hold)) {
    statements.push(
      db
        .prepare(
          `INSERT OR IGNORE INTO held_events (tenant, collection, id, version, tx_id, tx_size, body, held_at)
           SELECT value ->> '$[0]', value ->> '$[1]', value ->> '$[2]', value ->> '$[3]', value ->> '$[4]',
             value ->> '$[5]', value ->> '$[6]', ?2 FROM json_each(?1)`,
        )
        .bind(json, heldAt),
    );
  }
  for (const json of jsonChunks(forget)) {
    statements.push(
      db
        .prepare(
          `DELETE FROM held_events WHERE (tenant, collection, id, version) IN
             (SELECT value ->> '$[0]', value ->> '$[1]', value ->> '$[2]', value ->> '$[3]' FROM json_each(?1))`,
        )
        .bind(json),
    );
  }
  return { apply, statements };
}
