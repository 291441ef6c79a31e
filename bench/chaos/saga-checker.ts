/**
 * The saga workload's invariants (bench/chaos/sagas.ts): place-order sagas (domain/named-sagas.ts) reserve stock
 * (`inventory/{sku}` `/stock`, bounded at 0), charge a balance (`balances/{customer}` `/balance`, bounded at 0)
 * and create `orders/{orderId}`, compensating in reverse when a step fails for good. Whatever the faults, every
 * order either exists with its stock reserved and its charge made, each once, or none of its effects remain.
 *
 * Each effect carries its step's Idempotency-Key (domain/saga.ts phaseKey: `saga-{sagaId}-{step}-{phase}`), and
 * a document's history shows the key of every event, so the checker counts each saga's effects exactly.
 *
 * Pure TypeScript, like ./checker: no Node or Workers APIs, so the harness and the workerd tests both import it.
 *
 * Checks (each a Violation's `check`):
 * - `saga-history`       a stock or balance history is not versions 1..N opened at the initial value by the
 *                        harness, or holds a state without a number
 * - `saga-negative`      a stock or a balance below zero (or above what it started with), in a history or a
 *                        strong read taken during the run
 * - `saga-phantom`       an event no saga of the run explains: a key of no saga, of another step than the
 *                        document's, of a saga for another document, or effects of a saga that never started
 * - `saga-amount`        an effect changed its document by another amount than its saga's
 * - `saga-duplicate`     one step's action or compensation applied more than once
 * - `saga-effect`        a completed saga whose reserve, charge or order is not applied exactly once, or was undone
 * - `saga-compensation`  a compensated saga with an effect left in place, or a compensation of an effect that
 *                        never happened
 * - `saga-order`         an order that should exist (completed saga) and does not, or holds other data, or one
 *                        that should not exist (compensated saga) and does; a pre-existing order a saga changed
 * - `saga-total`         a final stock or balance that is not the initial one less the completed sagas' share, or
 *                        that disagrees with its history's last version
 * - `saga-failed`        a saga left `failed` (a compensation that kept failing): nothing in the run explains one
 * - `saga-stuck`         a saga not terminal when the harness stopped waiting (the workload adds its diagnosis)
 * - `saga-lost`          a saga whose start was answered 202 has no record
 * - `saga-record`        a saga's record disagrees with its outcome (a completed saga with a step not done)
 */
import type { Violation } from "./checker";

export interface ShopSpec {
  readonly skus: readonly string[];
  readonly stock: number;
  readonly customers: readonly string[];
  readonly balance: number;
  /** Orders that exist before the run: a saga that names one fails at create-order and compensates. */
  readonly taken: readonly string[];
}

/** A saga's record as GET /v1/_sagas/{id} shows it. */
export interface SagaView {
  readonly status: string;
  readonly reason: string | null;
  readonly createdAt?: string;
  readonly finishedAt?: string | null;
  readonly steps: ReadonlyArray<{
    readonly name: string;
    readonly action: { readonly status: string; readonly attempts: number };
    readonly compensation: { readonly status: string; readonly attempts: number } | null;
  }>;
}

/** One place-order saga the workload started (or tried to). */
export interface PlacedOrder {
  /** The start's Idempotency-Key: unique in the run. */
  readonly key: string;
  /** The saga id the key names (workers/routes/sagas.ts derives it from tenant and key). */
  readonly sagaId: string;
  readonly orderId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly customer: string;
  readonly amount: number;
  /** How the start was answered in the end: a 202 (first or replayed), or never (no 202 before the run ended). */
  answered: "accepted" | "replayed" | "unanswered";
  /** Every answer its start got, in order ("202", "202 replayed", "503 saga-unavailable", "no answer", ...). */
  readonly answers: string[];
  /** When the first attempt was sent and the 202 came (ms since the run started; null: never). */
  call?: number;
  ret?: number | null;
  /** The record after the drain (null: 404, the saga does not exist; undefined: never read). */
  final?: SagaView | null;
  /** The workload's diagnosis of a saga that did not end (its workflow instance, its record). */
  diagnosis?: string;
}

/** One event of a stock's or a balance's history. */
export interface AmountEvent {
  readonly version: number;
  readonly key: string | null;
  /** The stock or balance (null: a delete, or no number). */
  readonly value: number | null;
}

/** One event of an order's history. */
export interface OrderEvent {
  readonly version: number;
  readonly key: string | null;
  /** null: a delete. */
  readonly data: Readonly<Record<string, unknown>> | null;
}

export interface ShopState {
  readonly inventory: ReadonlyMap<string, readonly AmountEvent[]>;
  readonly balances: ReadonlyMap<string, readonly AmountEvent[]>;
  readonly orders: ReadonlyMap<string, readonly OrderEvent[]>;
  /** Strong reads after every saga ended (an entry missing: it could not be read). */
  readonly stock: ReadonlyMap<string, number | null>;
  readonly balance: ReadonlyMap<string, number | null>;
  /** Each order's data by a strong read (null: 404). */
  readonly order: ReadonlyMap<string, Readonly<Record<string, unknown>> | null>;
}

export interface SagaCounts {
  completed: number;
  compensated: number;
  failed: number;
  /** Not terminal when the harness stopped waiting. */
  stuck: number;
  /** No record: the start was never answered and did not take. */
  notStarted: number;
  cancelled: number;
}

/** The steps of place-order, in order: the document each one's effect is on. */
export const STEPS = ["reserve-stock", "charge", "create-order"] as const;
const RESERVE = 0;
const CHARGE = 1;
const CREATE = 2;

export const TERMINAL: ReadonlySet<string> = new Set(["completed", "compensated", "failed", "cancelled"]);

/** The saga, step and phase an effect's Idempotency-Key names (domain/saga.ts phaseKey), or null. */
export function parseEffectKey(
  key: string | null,
): { sagaId: string; step: number; phase: "action" | "compensation"; round: number } | null {
  const m = key === null ? null : /^saga-(S[0-9A-Z]{26})-(\d+)-(action|compensation)(?:-r(\d+))?$/.exec(key);
  if (m === null) return null;
  return {
    sagaId: m[1] ?? "",
    step: Number(m[2]),
    phase: m[3] === "action" ? "action" : "compensation",
    round: m[4] === undefined ? 0 : Number(m[4]),
  };
}

/** A start's answers in order, a run of the same one counted: "no answer x12, 202 replayed". */
export function answersOf(answers: readonly string[]): string {
  const runs: Array<[string, number]> = [];
  for (const a of answers) {
    const last = runs.at(-1);
    if (last !== undefined && last[0] === a) last[1]++;
    else runs.push([a, 1]);
  }
  return runs.map(([a, n]) => (n === 1 ? a : `${a} x${n}`)).join(", ") || "never";
}

const describe = (o: PlacedOrder) =>
  `saga ${o.sagaId} (key ${o.key}: order ${o.orderId}, ${o.quantity} of ${o.sku}, ${o.amount} from ${o.customer}; ` +
  `${o.final === undefined ? "never read" : o.final === null ? "no record" : o.final.status}; start answered ${answersOf(o.answers)})`;

/** Per saga, per step: how many times its action and its compensation applied, and where. */
interface Applied {
  action: number;
  compensation: number;
  where: string[];
}

/** Checks the sagas against the documents' histories and final reads, after every saga ended. */
export function checkSagas(
  spec: ShopSpec,
  orders: readonly PlacedOrder[],
  state: ShopState,
): { violations: Violation[]; counts: SagaCounts } {
  const out: Violation[] = [];
  const bySaga = new Map<string, PlacedOrder>();
  for (const o of orders) {
    if (bySaga.has(o.sagaId)) {
      out.push({ check: "history", doc: o.orderId, detail: `${describe(o)}: its saga id is not unique` });
    }
    bySaga.set(o.sagaId, o);
  }
  const applied = new Map<string, Applied[]>();
  const appliedOf = (sagaId: string, step: number): Applied => {
    const steps = applied.get(sagaId) ?? STEPS.map(() => ({ action: 0, compensation: 0, where: [] }));
    applied.set(sagaId, steps);
    return steps[step] ?? { action: 0, compensation: 0, where: [] };
  };

  // Stock and balances: every change is one saga's reserve or charge, or its compensation, by the right amount.
  const amounts = [
    {
      collection: "inventory",
      step: RESERVE,
      docs: spec.skus,
      initial: spec.stock,
      histories: state.inventory,
    },
    {
      collection: "balances",
      step: CHARGE,
      docs: spec.customers,
      initial: spec.balance,
      histories: state.balances,
    },
  ] as const;
  for (const { collection, step, docs, initial, histories } of amounts) {
    for (const doc of docs) {
      const events = [...(histories.get(doc) ?? [])].sort((a, b) => a.version - b.version);
      const at = `${collection}/${doc}`;
      if (events.length === 0) {
        out.push({ check: "saga-history", doc: at, detail: "the document has no history" });
        continue;
      }
      let previous: number | null = null;
      for (const [i, e] of events.entries()) {
        if (e.version !== i + 1) {
          out.push({ check: "saga-history", doc: at, detail: `event ${i + 1} is version ${e.version}` });
          break;
        }
        if (e.value === null) {
          out.push({ check: "saga-history", doc: at, detail: `version ${e.version} holds no number` });
          break;
        }
        if (e.value < 0 || e.value > initial) {
          out.push({
            check: "saga-negative",
            doc: at,
            detail: `version ${e.version} (key ${e.key ?? "none"}) has ${e.value}; it started at ${initial}`,
          });
        }
        const effect = parseEffectKey(e.key);
        if (e.version === 1) {
          if (effect !== null || e.value !== initial) {
            out.push({
              check: "saga-history",
              doc: at,
              detail: `version 1 (key ${e.key ?? "none"}) has ${e.value}; the harness opens it at ${initial}`,
            });
          }
          previous = e.value;
          continue;
        }
        const o = effect === null ? undefined : bySaga.get(effect.sagaId);
        const target = o === undefined ? undefined : step === RESERVE ? o.sku : o.customer;
        if (effect === null || o === undefined || effect.step !== step || target !== doc) {
          out.push({
            check: "saga-phantom",
            doc: at,
            detail: `version ${e.version} (key ${e.key ?? "none"}, ${previous} -> ${e.value}) is ${
              o === undefined
                ? "no saga's of the run"
                : `${describe(o)}'s, which is step ${effect?.step} on ${target} and not step ${step} on ${doc}`
            }`,
          });
          previous = e.value;
          continue;
        }
        const size = step === RESERVE ? o.quantity : o.amount;
        const delta = effect.phase === "action" ? -size : size;
        if (previous !== null && e.value - previous !== delta) {
          out.push({
            check: "saga-amount",
            doc: at,
            detail: `version ${e.version} (${effect.phase}) changed ${previous} -> ${e.value}; ${describe(o)} moves ${delta}`,
          });
        }
        const a = appliedOf(effect.sagaId, step);
        a[effect.phase]++;
        a.where.push(`${at} v${e.version} ${effect.phase}`);
        previous = e.value;
      }
    }
  }

  // Orders: the pre-existing ones untouched; the others written only by their saga's create-order and its undo.
  const taken = new Set(spec.taken);
  for (const [orderId, history] of state.orders) {
    const events = [...history].sort((a, b) => a.version - b.version);
    const at = `orders/${orderId}`;
    for (const e of events) {
      const effect = parseEffectKey(e.key);
      if (taken.has(orderId)) {
        if (e.version > 1 || effect !== null) {
          out.push({
            check: "saga-order",
            doc: at,
            detail: `the order existed before the run, and version ${e.version} (key ${e.key ?? "none"}) changed it`,
          });
        }
        continue;
      }
      const o = effect === null ? undefined : bySaga.get(effect.sagaId);
      if (effect === null || o === undefined || effect.step !== CREATE || o.orderId !== orderId) {
        out.push({
          check: "saga-phantom",
          doc: at,
          detail: `version ${e.version} (key ${e.key ?? "none"}) is ${o === undefined ? "no saga's of the run" : `${describe(o)}'s, step ${effect?.step}`}`,
        });
        continue;
      }
      if (effect.phase === "action") {
        const expected = { sku: o.sku, quantity: o.quantity, customer: o.customer, amount: o.amount };
        const data = e.data ?? {};
        if (Object.entries(expected).some(([k, v]) => data[k] !== v)) {
          out.push({
            check: "saga-order",
            doc: at,
            detail: `version ${e.version} holds ${JSON.stringify(e.data)}; ${describe(o)} creates ${JSON.stringify(expected)}`,
          });
        }
      } else if (e.data !== null) {
        out.push({
          check: "saga-order",
          doc: at,
          detail: `version ${e.version} is ${describe(o)}'s compensation, and not a delete`,
        });
      }
      const a = appliedOf(effect.sagaId, CREATE);
      a[effect.phase]++;
      a.where.push(`${at} v${e.version} ${effect.phase}`);
    }
  }

  const counts: SagaCounts = {
    completed: 0,
    compensated: 0,
    failed: 0,
    stuck: 0,
    notStarted: 0,
    cancelled: 0,
  };
  const completedOf = (o: PlacedOrder) => o.final?.status === "completed";
  for (const o of orders) {
    const steps = applied.get(o.sagaId) ?? STEPS.map(() => ({ action: 0, compensation: 0, where: [] }));
    const where = () => steps.flatMap((s) => s.where).join("; ") || "no effect in any history";
    for (const [i, s] of steps.entries()) {
      if (s.action > 1 || s.compensation > 1) {
        out.push({
          check: "saga-duplicate",
          doc: o.orderId,
          detail: `${describe(o)}: step ${STEPS[i]} applied ${s.action} times and was undone ${s.compensation} times (${where()})`,
        });
      }
    }
    const status = o.final === undefined ? "unread" : o.final === null ? null : o.final.status;
    const exists = state.order.get(o.orderId);
    if (status === "completed") {
      counts.completed++;
      if (steps.some((s) => s.action !== 1 || s.compensation !== 0)) {
        out.push({ check: "saga-effect", doc: o.orderId, detail: `${describe(o)}, yet: ${where()}` });
      }
      const expected = { sku: o.sku, quantity: o.quantity, customer: o.customer, amount: o.amount };
      if (exists === null || exists === undefined) {
        out.push({
          check: "saga-order",
          doc: o.orderId,
          detail: `${describe(o)}, yet the order ${exists === null ? "does not exist" : "could not be read"}`,
        });
      } else if (!taken.has(o.orderId) && Object.entries(expected).some(([k, v]) => exists[k] !== v)) {
        out.push({
          check: "saga-order",
          doc: o.orderId,
          detail: `${describe(o)}, and the order holds ${JSON.stringify(exists)}`,
        });
      }
      const notDone = o.final?.steps.filter((s) => s.action.status !== "done") ?? [];
      if (notDone.length > 0) {
        out.push({
          check: "saga-record",
          doc: o.orderId,
          detail: `${describe(o)}, yet its record has ${notDone.map((s) => `${s.name} ${s.action.status}`).join(", ")}`,
        });
      }
    } else if (status === "compensated") {
      counts.compensated++;
      if (steps.some((s) => s.action !== s.compensation)) {
        out.push({ check: "saga-compensation", doc: o.orderId, detail: `${describe(o)}, yet: ${where()}` });
      }
      if (!taken.has(o.orderId) && exists !== null) {
        out.push({
          check: "saga-order",
          doc: o.orderId,
          detail: `${describe(o)}, yet the order ${exists === undefined ? "could not be read" : `exists: ${JSON.stringify(exists)}`}`,
        });
      }
    } else if (status === "failed") {
      counts.failed++;
      out.push({
        check: "saga-failed",
        doc: o.orderId,
        detail: `${describe(o)}: ${o.final?.reason ?? "no reason"}; ${where()}`,
      });
    } else if (status === "cancelled") {
      counts.cancelled++;
      out.push({
        check: "saga-unexpected",
        doc: o.orderId,
        detail: `${describe(o)}: the run cancels no saga`,
      });
    } else if (status === null) {
      counts.notStarted++;
      if (o.answered !== "unanswered") {
        out.push({ check: "saga-lost", doc: o.orderId, detail: `${describe(o)}: no record` });
      }
      if (steps.some((s) => s.action > 0 || s.compensation > 0)) {
        out.push({ check: "saga-phantom", doc: o.orderId, detail: `${describe(o)}, yet: ${where()}` });
      }
    } else {
      counts.stuck++;
      out.push({
        check: "saga-stuck",
        doc: o.orderId,
        detail: `${describe(o)}${o.diagnosis === undefined ? "" : `: ${o.diagnosis}`}; ${where()}`,
      });
    }
  }

  // What is left: the initial stock and balances less the completed sagas' reserves and charges.
  const finals = [
    {
      collection: "inventory",
      docs: spec.skus,
      initial: spec.stock,
      read: state.stock,
      histories: state.inventory,
      share: (o: PlacedOrder, doc: string) => (o.sku === doc ? o.quantity : 0),
    },
    {
      collection: "balances",
      docs: spec.customers,
      initial: spec.balance,
      read: state.balance,
      histories: state.balances,
      share: (o: PlacedOrder, doc: string) => (o.customer === doc ? o.amount : 0),
    },
  ] as const;
  for (const { collection, docs, initial, read, histories, share } of finals) {
    for (const doc of docs) {
      const at = `${collection}/${doc}`;
      const expected = initial - orders.filter(completedOf).reduce((n, o) => n + share(o, doc), 0);
      const final = read.get(doc);
      const last = [...(histories.get(doc) ?? [])].sort((a, b) => b.version - a.version)[0];
      if (final === undefined) continue;
      if (final === null || final !== expected) {
        out.push({
          check: "saga-total",
          doc: at,
          detail: `the final strong read has ${final}; ${initial} less the completed sagas' ${initial - expected} is ${expected}`,
        });
      }
      if (final !== null && final < 0) {
        out.push({ check: "saga-negative", doc: at, detail: `the final strong read has ${final}` });
      }
      if (last !== undefined && last.value !== final) {
        out.push({
          check: "saga-total",
          doc: at,
          detail: `the final strong read has ${final}; the history ends at v${last.version} with ${last.value}`,
        });
      }
    }
  }
  return { violations: out, counts };
}
