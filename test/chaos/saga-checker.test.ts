import { describe, expect, it } from "vitest";
import {
  type AmountEvent,
  checkSagas,
  type OrderEvent,
  type PlacedOrder,
  type SagaView,
  type ShopSpec,
  type ShopState,
  STEPS,
} from "../../bench/chaos/saga-checker";

const spec: ShopSpec = { skus: ["s"], stock: 5, customers: ["c"], balance: 100, taken: ["taken"] };

let counter = 0;
function order(quantity: number, amount: number, orderId?: string): PlacedOrder {
  counter++;
  const sagaId = `S${String(counter).padStart(26, "0")}`;
  return {
    key: `k${counter}`,
    sagaId,
    orderId: orderId ?? `o${counter}`,
    sku: "s",
    quantity,
    customer: "c",
    amount,
    answered: "accepted",
    answers: ["202"],
  };
}

const view = (status: string, reason: string | null = null): SagaView => ({
  status,
  reason,
  steps: STEPS.map((name) => ({
    name,
    action: { status: status === "completed" ? "done" : "failed", attempts: 1 },
    compensation: { status: "pending", attempts: 0 },
  })),
});

const key = (o: PlacedOrder, step: number, phase: "action" | "compensation") =>
  `saga-${o.sagaId}-${step}-${phase}`;

/** What the checker is given, in maps the tests can change. */
interface State {
  inventory: Map<string, AmountEvent[]>;
  balances: Map<string, AmountEvent[]>;
  orders: Map<string, OrderEvent[]>;
  order: Map<string, Record<string, unknown> | null>;
  stock: Map<string, number | null>;
  balance: Map<string, number | null>;
}

/**
 * A correct shop: runs each order in turn (reserve, charge, create; undone in reverse where one fails for good),
 * and gives the histories and final reads it leaves, each saga's record set to its outcome.
 */
function run(orders: PlacedOrder[]): State {
  const inventory: AmountEvent[] = [{ version: 1, key: "open-inventory-s", value: spec.stock }];
  const balances: AmountEvent[] = [{ version: 1, key: "open-balances-c", value: spec.balance }];
  const orderHistories = new Map<string, OrderEvent[]>([
    ["taken", [{ version: 1, key: null, data: { taken: true } }]],
  ]);
  const push = (events: AmountEvent[], k: string, delta: number) => {
    const last = events.at(-1) as AmountEvent;
    events.push({ version: last.version + 1, key: k, value: (last.value ?? 0) + delta });
  };
  for (const o of orders) {
    const stock = inventory.at(-1)?.value ?? 0;
    if (stock < o.quantity) {
      o.final = view("compensated", "reserve-stock: bound");
      continue;
    }
    push(inventory, key(o, 0, "action"), -o.quantity);
    if ((balances.at(-1)?.value ?? 0) < o.amount) {
      push(inventory, key(o, 0, "compensation"), o.quantity);
      o.final = view("compensated", "charge: bound");
      continue;
    }
    push(balances, key(o, 1, "action"), -o.amount);
    if (orderHistories.has(o.orderId)) {
      push(balances, key(o, 1, "compensation"), o.amount);
      push(inventory, key(o, 0, "compensation"), o.quantity);
      o.final = view("compensated", "create-order: exists");
      continue;
    }
    const data = {
      sku: o.sku,
      quantity: o.quantity,
      customer: o.customer,
      amount: o.amount,
      status: "placed",
    };
    orderHistories.set(o.orderId, [{ version: 1, key: key(o, 2, "action"), data }]);
    o.final = view("completed");
  }
  const order = new Map<string, Record<string, unknown> | null>();
  for (const o of orders) order.set(o.orderId, orderHistories.get(o.orderId)?.at(-1)?.data ?? null);
  order.set("taken", { taken: true });
  return {
    inventory: new Map([["s", inventory]]),
    balances: new Map([["c", balances]]),
    orders: orderHistories,
    stock: new Map([["s", inventory.at(-1)?.value ?? null]]),
    balance: new Map([["c", balances.at(-1)?.value ?? null]]),
    order,
  };
}

const checks = (orders: PlacedOrder[], state: ShopState) =>
  checkSagas(spec, orders, state).violations.map((v) => v.check);

describe("checkSagas", () => {
  it("passes a correct shop: completed, compensated at each step, never started", () => {
    const orders = [order(2, 30), order(1, 80), order(1, 10, "taken"), order(3, 10), order(1, 10)];
    const state = run(orders);
    const never = order(1, 1);
    never.answered = "unanswered";
    never.final = null;
    const { violations, counts } = checkSagas(spec, [...orders, never], state);
    expect(violations).toEqual([]);
    expect(counts).toMatchObject({ completed: 2, compensated: 3, notStarted: 1, failed: 0, stuck: 0 });
    expect(orders.map((o) => o.final?.reason?.split(":")[0] ?? null)).toEqual([
      null,
      "charge",
      "create-order",
      null,
      "reserve-stock",
    ]);
  });

  it("finds a charge applied twice", () => {
    const o = order(1, 20);
    const state = run([o]);
    state.balances.get("c")?.push({ version: 3, key: key(o, 1, "action"), value: 60 });
    state.balance.set("c", 60);
    expect(checks([o], state)).toEqual(
      expect.arrayContaining(["saga-duplicate", "saga-effect", "saga-total"]),
    );
  });

  it("finds a compensated saga whose charge was not undone, and an undo of what never happened", () => {
    const o = order(1, 20);
    const state = run([o]);
    // As if create-order had failed for good and only the reserve was undone.
    state.inventory.get("s")?.push({ version: 3, key: key(o, 0, "compensation"), value: 5 });
    state.orders.delete(o.orderId);
    state.order.set(o.orderId, null);
    state.stock.set("s", 5);
    o.final = view("compensated", "create-order: exists");
    expect(checks([o], state)).toContain("saga-compensation");

    const p = order(1, 20);
    const other = run([]);
    p.final = view("compensated", "reserve-stock: bound");
    other.inventory.get("s")?.push({ version: 2, key: key(p, 0, "compensation"), value: 6 });
    other.stock.set("s", 6);
    expect(checks([p], other)).toEqual(
      expect.arrayContaining(["saga-compensation", "saga-negative", "saga-total"]),
    );
  });

  it("finds a completed saga without its order, and a compensated one whose order remains", () => {
    const o = order(1, 20);
    const state = run([o]);
    state.order.set(o.orderId, null);
    expect(checks([o], state)).toContain("saga-order");

    const p = order(1, 20);
    const kept = run([p]);
    p.final = view("compensated", "create-order: timeout");
    expect(checks([p], kept)).toEqual(expect.arrayContaining(["saga-compensation", "saga-order"]));
  });

  it("finds a negative stock, a wrong amount, a phantom event and a changed pre-existing order", () => {
    const o = order(1, 20);
    const state = run([o]);
    state.inventory.get("s")?.push({ version: 3, key: "someone-else", value: -1 });
    state.balances.get("c")?.push({ version: 3, key: key(o, 1, "compensation"), value: 81 });
    state.orders.get("taken")?.push({ version: 2, key: key(o, 2, "compensation"), data: null });
    expect(checks([o], state)).toEqual(
      expect.arrayContaining(["saga-negative", "saga-phantom", "saga-amount", "saga-order"]),
    );
  });

  it("reports failed, stuck and lost sagas, with the workload's diagnosis", () => {
    const failed = order(1, 1);
    const stuck = order(1, 1);
    const lost = order(1, 1);
    const state = run([]);
    failed.final = { ...view("failed"), reason: "compensation of step 0: gave up" };
    stuck.final = view("running");
    stuck.diagnosis = "it has no workflow instance";
    lost.final = null;
    const { violations, counts } = checkSagas(spec, [failed, stuck, lost], state);
    expect(violations.map((v) => v.check)).toEqual(["saga-failed", "saga-stuck", "saga-lost"]);
    expect(violations[1]?.detail).toContain("it has no workflow instance");
    expect(counts).toMatchObject({ failed: 1, stuck: 1, notStarted: 1 });
  });
});
