/**
 * The chaos run's saga workload: a shop of a few SKUs with a small stock and a few customers with balances, and
 * clients placing orders with the place-order saga (domain/named-sagas.ts) against it, many at once: quantities of
 * 1 to 3 (the stock runs out), amounts such that some charges fail, and now and then an order id that exists
 * already (create-order fails, and the charge and the reserve are undone). A sampler's strong reads check that no
 * stock and no balance is ever negative; after the drain, ./saga-checker holds every saga's outcome against the
 * documents' histories.
 *
 * Each start carries an Idempotency-Key, and is sent again with it after a 503, a 429 or no answer, until it is
 * answered 202 (a start still unanswered when the run ends is sent again in the drain, as a client that keeps its
 * key does after an outage: `finishStarts`); the key names the saga (`S` + the SHA-256 of tenant and key), so the harness knows the id of every
 * saga it tried to start, answered or not.
 *
 * The local Workflows engine (Miniflare's) persists every instance on disk, but nothing in it resumes an instance
 * that was running when its process stopped: Cloudflare's engine does, by itself. After each restart, `wake`
 * stands in for that: through the chaos entry's `POST /_chaos/sagas` (./entry), it sends each instance the harness
 * knows of an event no saga waits for, which makes the local engine load the instance and replay it from its
 * persisted steps (what a resume does). Only once per process start: a saga that stalls later is not helped.
 */
import { createHash } from "node:crypto";
import { authFetch, HARNESS_ADMIN_SECRET, HARNESS_TENANT } from "../lib/credential";
import type { Violation } from "./checker";
import { seededRandom } from "./random";
import {
  type AmountEvent,
  type OrderEvent,
  type PlacedOrder,
  type SagaView,
  type ShopSpec,
  type ShopState,
  TERMINAL,
} from "./saga-checker";

export const SHOP_COLLECTIONS = { inventory: "inventory", balances: "balances", orders: "orders" } as const;

export interface ShopSettings {
  readonly skus: number;
  readonly stock: number;
  readonly customers: number;
  readonly balance: number;
  /** Sagas to start in all, spread over the run and the clients. */
  readonly sagas: number;
  readonly clients: number;
  readonly seed: number;
}

const clock = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The share of orders that name an order that exists already. */
const TAKEN_SHARE = 0.08;
const MIN_AMOUNT = 20;
const MAX_AMOUNT = 120;

/** The saga id an Idempotency-Key names (workers/routes/sagas.ts). */
export function sagaIdOf(key: string): string {
  return `S${createHash("sha256").update(`${HARNESS_TENANT}\n${key}`).digest("hex").slice(0, 26).toUpperCase()}`;
}

/**
 * Why a saga whose record exists may have no workflow instance, from how its start was answered. The route writes
 * the record, then creates the workflow; a retry that finds the record replays the first answer and creates
 * nothing (workers/routes/sagas.ts; test/chaos/saga-start.test.ts).
 */
function withoutInstance(answers: readonly string[]): string {
  if (answers.includes("202")) {
    return (
      "it has no workflow instance, though a start was answered 202: Workflows took the create, and the local " +
      "engine, which stores a new instance in waitUntil, lost it when its process stopped right then"
    );
  }
  const refused = answers.find(
    (a) => a.startsWith("503 outcome-unknown") || a.startsWith("503 saga-unavailable"),
  );
  // Unless an attempt went unanswered too (which may have written the record), the 503's attempt wrote it.
  if (refused !== undefined && !answers.includes("no answer")) {
    return (
      `it has no workflow instance: a start answered ${refused} had written its record and made no workflow, ` +
      "and the retries, answered from the record, made none either (the route's bug: test/chaos/saga-start.test.ts)"
    );
  }
  return (
    "it has no workflow instance, and no start got an answer but a replayed one: an attempt wrote its record and " +
    "its process stopped before the workflow was made (the route's bug: no retry makes it; " +
    "test/chaos/saga-start.test.ts), or right after the local engine took the create (its waitUntil)"
  );
}

/** A saga's workflow instance as the chaos entry describes it (./entry, POST /_chaos/sagas). */
interface Instance {
  readonly status: string;
  /** How many of its steps returned, and the last one's result (JSON, cut short). */
  readonly steps: number;
  readonly last: string;
  readonly error?: string;
}

/** The saga's Workflows instance (workers/routes/sagas.ts instanceId). */
const instanceIdOf = (sagaId: string) => `${HARNESS_TENANT}--${sagaId}`;

export class Shop {
  readonly spec: ShopSpec;
  readonly orders: PlacedOrder[] = [];
  readonly violations: Violation[] = [];
  readonly sampled = { strong: 0, locked: 0 };
  /** What each wake found: instances woken, and sagas the harness knows of without one (or why it could not). */
  readonly wakes: Array<{ woken: number; missing: number; states: Record<string, number>; error?: string }> =
    [];
  private readonly started = clock();

  constructor(
    private readonly settings: ShopSettings,
    private readonly base: () => string,
    private readonly answered: () => void,
  ) {
    this.spec = {
      skus: Array.from({ length: settings.skus }, (_, i) => `sku-${i}`),
      stock: settings.stock,
      customers: Array.from({ length: settings.customers }, (_, i) => `cust-${i}`),
      balance: settings.balance,
      taken: ["taken-0", "taken-1"],
    };
  }

  private at(): string {
    return `at ${((clock() - this.started) / 1000).toFixed(2)} s`;
  }

  private url(collection: string, path: string): string {
    return `${this.base()}/v1/${collection}${path}`;
  }

  /** Stocks the shop and opens the balances (faults are on: each write retried with its key until answered). */
  async open(deadlineMs = 30_000): Promise<void> {
    const deadline = clock() + deadlineMs;
    const writes = [
      ...this.spec.skus.map((id) => [SHOP_COLLECTIONS.inventory, id, { stock: this.spec.stock }] as const),
      ...this.spec.customers.map(
        (id) => [SHOP_COLLECTIONS.balances, id, { balance: this.spec.balance }] as const,
      ),
      ...this.spec.taken.map((id) => [SHOP_COLLECTIONS.orders, id, { taken: true }] as const),
    ];
    await Promise.all(
      writes.map(async ([collection, id, data]) => {
        for (;;) {
          try {
            const res = await authFetch(this.url(collection, `/${id}`), {
              method: "PUT",
              headers: { "content-type": "application/json", "idempotency-key": `open-${collection}-${id}` },
              body: JSON.stringify(data),
              signal: AbortSignal.timeout(10_000),
            });
            const text = await res.text();
            if (res.ok) return;
            if (res.status < 500 && res.status !== 409) {
              throw new Error(`opening ${collection}/${id}: ${res.status} ${text.slice(0, 300)}`);
            }
          } catch (error) {
            if (error instanceof Error && error.message.startsWith("opening")) throw error;
          }
          if (clock() > deadline)
            throw new Error(`opening ${collection}/${id}: no answer within ${deadlineMs} ms`);
          await sleep(100);
        }
      }),
    );
  }

  /** A client: its share of the sagas, started at an even pace until `until` (each runs on without it). */
  async client(id: number, until: number): Promise<void> {
    const random = seededRandom(this.settings.seed * 104_729 + 2000 + id);
    const share = Math.ceil(this.settings.sagas / this.settings.clients);
    // Spread over most of the run, so that sagas are under way at the restart and when the clients stop; on a
    // schedule, so that a start the restart held up is made up for.
    const from = clock();
    const spacing = ((until - from) * 0.9) / share;
    for (let n = 1; n <= share && clock() < until; n++) {
      const next = from + spacing * (n - 0.5 + random());
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
      const key = `order-${this.settings.seed}-c${id}-${n}`;
      const order: PlacedOrder = {
        key,
        sagaId: sagaIdOf(key),
        orderId: random() < TAKEN_SHARE ? pick(this.spec.taken) : `o-${this.settings.seed}-c${id}-${n}`,
        sku: pick(this.spec.skus),
        quantity: 1 + Math.floor(random() * 3),
        customer: pick(this.spec.customers),
        amount: MIN_AMOUNT + Math.floor(random() * (MAX_AMOUNT - MIN_AMOUNT + 1)),
        answered: "unanswered",
        answers: [],
        call: clock() - this.started,
        ret: null,
      };
      this.orders.push(order);
      await this.start(order, until);
      const wait = next - clock();
      if (wait > 0) await sleep(wait);
    }
  }

  /**
   * In the drain: every start that never got its 202 (the process was down, or crashed, until the run ended) is
   * sent again with its key, as a client that keeps retrying does, for up to `ms`. A start whose record was written
   * before its process stopped then gets its workflow (the route makes sure of it on a keyed replay); a client that
   * gives up instead leaves the saga to the hourly housekeeping, which ends it as cancelled after 15 minutes.
   */
  async finishStarts(ms: number): Promise<number> {
    const until = clock() + ms;
    const unanswered = this.orders.filter((o) => o.answered === "unanswered");
    await Promise.all(unanswered.map((order) => this.start(order, until)));
    return unanswered.length;
  }

  /** Starts a saga: again with the same key after a 503, a 429 or no answer, until a 202 or `until`. */
  private async start(order: PlacedOrder, until: number): Promise<void> {
    const body = JSON.stringify({
      orderId: order.orderId,
      sku: order.sku,
      quantity: order.quantity,
      customer: order.customer,
      amount: order.amount,
      payment: "balance",
    });
    while (clock() < until) {
      let res: Response;
      let text: string;
      try {
        res = await authFetch(`${this.base()}/v1/_sagas/place-order`, {
          method: "POST",
          headers: { "content-type": "application/json", "idempotency-key": order.key },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        text = await res.text();
        this.answered();
      } catch {
        order.answers.push("no answer");
        await sleep(200);
        continue;
      }
      let answer: { id?: string; code?: string } = {};
      try {
        answer = JSON.parse(text) as typeof answer;
      } catch {
        // not JSON: reported below when it matters
      }
      if (res.status === 202) {
        const replayed = res.headers.get("idempotent-replayed") === "true";
        order.answers.push(replayed ? "202 replayed" : "202");
        order.answered = replayed ? "replayed" : "accepted";
        order.ret = clock() - this.started;
        if (answer.id !== order.sagaId) {
          this.violations.push({
            check: "history",
            doc: order.orderId,
            detail: `saga start ${order.key} was answered 202 ${text.slice(0, 300)}; expected saga ${order.sagaId} (the harness derives saga ids from keys)`,
          });
        }
        return;
      }
      order.answers.push(`${res.status}${answer.code === undefined ? "" : ` ${answer.code}`}`);
      if (res.status >= 500 || res.status === 429) {
        if (res.status !== 503) {
          this.violations.push({
            check: "saga-error",
            doc: order.orderId,
            detail: `${this.at()}: saga start ${order.key} was answered ${res.status} ${text.slice(0, 300)}`,
          });
        }
        await sleep(Math.min(1000, 1000 * Number(res.headers.get("retry-after") ?? "0.2")));
        continue;
      }
      this.violations.push({
        check: "saga-unexpected",
        doc: order.orderId,
        detail: `${this.at()}: saga start ${order.key} was answered ${res.status} ${text.slice(0, 300)}`,
      });
      return;
    }
  }

  /** Strong reads of the stocks and balances while `going()`: never negative, never above where they started. */
  async sampler(going: () => boolean): Promise<void> {
    const random = seededRandom(this.settings.seed * 37 + 11);
    const docs = [
      ...this.spec.skus.map((id) => [SHOP_COLLECTIONS.inventory, id, "stock", this.spec.stock] as const),
      ...this.spec.customers.map(
        (id) => [SHOP_COLLECTIONS.balances, id, "balance", this.spec.balance] as const,
      ),
    ];
    while (going()) {
      const [collection, id, field, initial] = docs[Math.floor(random() * docs.length)] ?? docs[0] ?? [];
      if (collection === undefined) return;
      try {
        const res = await authFetch(this.url(collection, `/${id}`), {
          headers: { consistency: "strong" },
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        this.answered();
        if (res.status === 200) {
          this.sampled.strong++;
          const doc = JSON.parse(text) as { version: number; data: Record<string, unknown> };
          const value = doc.data[field];
          if (typeof value !== "number" || value < 0 || value > initial) {
            this.violations.push({
              check: "saga-negative",
              doc: `${collection}/${id}`,
              detail: `${this.at()}: a strong read has v${doc.version} ${field} ${JSON.stringify(value)}`,
            });
          }
        } else if (res.status === 503) {
          if (text.includes("document-locked")) this.sampled.locked++;
        } else {
          this.violations.push({
            check: res.status >= 500 ? "saga-error" : "saga-unexpected",
            doc: `${collection}/${id}`,
            detail: `${this.at()}: a strong read answered ${res.status} ${text.slice(0, 300)}`,
          });
        }
        await sleep(20);
      } catch {
        await sleep(100); // the process restart: no answer
      }
    }
  }

  /**
   * Each saga's workflow instance status (null: it has none), through the chaos entry; with `wake`, the instances
   * not ended are sent the wake event (see the header).
   */
  private async instances(sagaIds: readonly string[], wake: boolean): Promise<Map<string, Instance | null>> {
    const statuses = new Map<string, Instance | null>();
    for (let i = 0; i < sagaIds.length; i += 50) {
      const chunk = sagaIds.slice(i, i + 50);
      const res = await fetch(`${this.base()}/_chaos/sagas`, {
        method: "POST",
        headers: { authorization: `Bearer ${HARNESS_ADMIN_SECRET}`, "content-type": "application/json" },
        body: JSON.stringify({ ids: chunk.map(instanceIdOf), wake }),
        signal: AbortSignal.timeout(30_000),
      });
      if (!res.ok) throw new Error(`POST /_chaos/sagas: ${res.status} ${await res.text()}`);
      const answer = (await res.json()) as Record<string, Instance | null>;
      for (const id of chunk) statuses.set(id, answer[instanceIdOf(id)] ?? null);
    }
    return statuses;
  }

  /**
   * After a restart: every saga the harness knows of, not known to have ended, gets the wake event, so that the
   * local engine resumes the instances that were under way when the process stopped. What it found is kept in
   * `wakes` (how many instances of each status; those without one: sagas never started, or started and lost).
   */
  async wake(): Promise<void> {
    const known = this.orders.filter((o) => o.final == null || !TERMINAL.has(o.final.status));
    let found: Map<string, Instance | null>;
    try {
      found = await this.instances(
        known.map((o) => o.sagaId),
        true,
      );
    } catch (error) {
      // No answer (the runtime died after the restart): the next start's wake covers these sagas.
      this.wakes.push({ woken: 0, missing: 0, states: {}, error: String(error) });
      return;
    }
    const states: Record<string, number> = {};
    let missing = 0;
    let woken = 0;
    for (const instance of found.values()) {
      if (instance === null) missing++;
      else {
        const { status } = instance;
        states[status] = (states[status] ?? 0) + 1;
        if (!["complete", "errored", "terminated"].includes(status)) woken++;
      }
    }
    this.wakes.push({ woken, missing, states });
  }

  /**
   * After the clients stopped: reads every saga's record until each is terminal (or 404: never started), for
   * `deadlineMs` at most; a saga still under way then gets a diagnosis (its record, its workflow instance).
   * Returns when the last one ended, in ms from the call (null: not all did).
   */
  async settle(deadlineMs: number): Promise<number | null> {
    const began = clock();
    const deadline = began + deadlineMs;
    let open = [...this.orders];
    if (open.length === 0) return 0;
    while (open.length > 0) {
      const still: PlacedOrder[] = [];
      for (let i = 0; i < open.length; i += 16) {
        await Promise.all(
          open.slice(i, i + 16).map(async (o) => {
            const view = await this.record(o.sagaId).catch(() => undefined);
            if (view !== undefined) o.final = view;
            if (view === undefined || (view !== null && !TERMINAL.has(view.status))) still.push(o);
          }),
        );
      }
      open = still;
      if (open.length === 0) return clock() - began;
      if (clock() > deadline) break;
      await sleep(300);
    }
    const instances = await this.instances(
      open.map((o) => o.sagaId),
      false,
    ).catch(() => new Map<string, Instance | null>());
    for (const o of open) {
      const found = instances.get(o.sagaId);
      const instance =
        found === undefined
          ? "its workflow instance could not be asked about"
          : found !== null
            ? `its workflow instance is ${found.status}, ${found.steps} steps returned (the last: ${found.last})` +
              (found.error === undefined ? "" : `, error ${found.error}`)
            : withoutInstance(o.answers);
      const steps = o.final?.steps
        .map(
          (s) =>
            `${s.name} ${s.action.status}/${s.action.attempts}${s.compensation === null ? "" : ` undo ${s.compensation.status}/${s.compensation.attempts}`}`,
        )
        .join(", ");
      o.diagnosis = `still ${o.final?.status ?? "unread"} ${(deadlineMs / 1000).toFixed(0)} s into the drain, ${instance}${steps === undefined ? "" : `; steps ${steps}`}`;
    }
    return null;
  }

  /** A saga's record by GET /v1/_sagas/{id} (null: 404); throws when there is no answer. */
  private async record(sagaId: string): Promise<SagaView | null> {
    const res = await authFetch(`${this.base()}/v1/_sagas/${sagaId}`, {
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status === 404) return null;
    if (res.status === 200) return JSON.parse(text) as SagaView;
    if (res.status !== 503) {
      this.violations.push({
        check: res.status >= 500 ? "saga-error" : "saga-unexpected",
        doc: sagaId,
        detail: `${this.at()}: GET /v1/_sagas/${sagaId} answered ${res.status} ${text.slice(0, 300)}`,
      });
    }
    throw new Error(`saga ${sagaId}: ${res.status}`);
  }

  /** A document's history, every page (empty: 404). */
  private async history(
    collection: string,
    id: string,
  ): Promise<Array<{ version: number; idempotencyKey?: string; data: Record<string, unknown> | null }>> {
    const events: Array<{ version: number; idempotencyKey?: string; data: Record<string, unknown> | null }> =
      [];
    let after = 0;
    for (;;) {
      const res = await authFetch(this.url(collection, `/${id}/_history?after=${after}&limit=1000`));
      if (res.status === 404) {
        await res.arrayBuffer();
        return events;
      }
      if (!res.ok)
        throw new Error(`reading ${collection}/${id}'s history: ${res.status} ${await res.text()}`);
      const page = (await res.json()) as { items: typeof events; next: number | null };
      events.push(...page.items);
      if (page.next === null) return events;
      after = page.next;
    }
  }

  /** A strong read's data (null: 404); throws on anything else. */
  private async strong(collection: string, id: string): Promise<Record<string, unknown> | null> {
    for (let attempt = 0; ; attempt++) {
      const res = await authFetch(this.url(collection, `/${id}`), {
        headers: { consistency: "strong" },
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (res.status === 404) return null;
      if (res.status === 200) return (JSON.parse(text) as { data: Record<string, unknown> }).data;
      if (res.status !== 503 || attempt >= 10) {
        throw new Error(`the final read of ${collection}/${id}: ${res.status} ${text.slice(0, 300)}`);
      }
      await sleep(300);
    }
  }

  /** Histories and strong reads of every document the sagas touch (read once they all ended). */
  async state(): Promise<ShopState> {
    const number = (data: Record<string, unknown> | null, field: string) => {
      const value = data?.[field];
      return typeof value === "number" ? value : null;
    };
    const amounts = async (collection: string, ids: readonly string[], field: string) => {
      const histories = new Map<string, AmountEvent[]>();
      const finals = new Map<string, number | null>();
      for (const id of ids) {
        const events = await this.history(collection, id);
        histories.set(
          id,
          events.map((e) => ({
            version: e.version,
            key: e.idempotencyKey ?? null,
            value: number(e.data, field),
          })),
        );
        finals.set(id, number(await this.strong(collection, id), field));
      }
      return { histories, finals };
    };
    const inventory = await amounts(SHOP_COLLECTIONS.inventory, this.spec.skus, "stock");
    const balances = await amounts(SHOP_COLLECTIONS.balances, this.spec.customers, "balance");
    const orders = new Map<string, OrderEvent[]>();
    const order = new Map<string, Record<string, unknown> | null>();
    const ids = [...new Set([...this.spec.taken, ...this.orders.map((o) => o.orderId)])];
    for (let i = 0; i < ids.length; i += 16) {
      await Promise.all(
        ids.slice(i, i + 16).map(async (id) => {
          const events = await this.history(SHOP_COLLECTIONS.orders, id);
          if (events.length > 0) {
            orders.set(
              id,
              events.map((e) => ({ version: e.version, key: e.idempotencyKey ?? null, data: e.data })),
            );
          }
          order.set(id, await this.strong(SHOP_COLLECTIONS.orders, id));
        }),
      );
    }
    return {
      inventory: inventory.histories,
      balances: balances.histories,
      orders,
      stock: inventory.finals,
      balance: balances.finals,
      order,
    };
  }
}
