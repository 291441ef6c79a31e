/**
 * Sagas declared in code, beside the collections: each takes a JSON input, validated with zod, and computes its
 * steps from it. `POST /v1/_sagas/{name}` starts one. `place-order` is the worked example: reserve stock, charge
 * (a balance in Tessera, or a payment service on the allow-list), create the order; each undone in reverse.
 */
import { z } from "zod";

/** What a declaration gets besides its input: the deployment's settings it may need. */
export interface SagaContext {
  /** The payment service's base URL (PAYMENTS_URL), when one is configured. */
  readonly paymentsUrl: string | null;
}

export interface NamedSaga<I> {
  readonly input: z.ZodType<I>;
  /** The steps, as `POST /v1/_sagas` would take them in its body (validated the same way). */
  readonly steps: (input: I, context: SagaContext) => unknown[];
}

function defineSaga<I>(saga: NamedSaga<I>): NamedSaga<unknown> {
  return saga as NamedSaga<unknown>;
}

const increment = (collection: string, id: string, path: string, value: number, min?: number) => ({
  op: "patch",
  collection,
  id,
  patch: [{ op: "increment", path, value, ...(min === undefined ? {} : { min }) }],
});

const PlaceOrder = z.strictObject({
  orderId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  sku: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  quantity: z.number().int().min(1).max(1000),
  customer: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  amount: z.number().int().min(0).max(1_000_000_000),
  /** "balance": charge the customer's balance document; "service": call the payment service. */
  payment: z.enum(["balance", "service"]).default("balance"),
});

export const NAMED_SAGAS: Readonly<Record<string, NamedSaga<unknown>>> = {
  "place-order": defineSaga({
    input: PlaceOrder,
    steps: (order, { paymentsUrl }) => [
      {
        name: "reserve-stock",
        action: increment("inventory", order.sku, "/stock", -order.quantity, 0),
        compensation: increment("inventory", order.sku, "/stock", order.quantity),
      },
      order.payment === "service"
        ? {
            name: "charge",
            action: {
              op: "http",
              method: "POST",
              url: `${paymentsUrl ?? "https://payments.invalid"}/charges`,
              body: { reference: order.orderId, customer: order.customer, amount: order.amount },
            },
            compensation: {
              op: "http",
              method: "POST",
              url: `${paymentsUrl ?? "https://payments.invalid"}/refunds`,
              body: { reference: order.orderId, customer: order.customer, amount: order.amount },
            },
          }
        : {
            name: "charge",
            action: increment("balances", order.customer, "/balance", -order.amount, 0),
            compensation: increment("balances", order.customer, "/balance", order.amount),
          },
      {
        name: "create-order",
        action: {
          op: "put",
          collection: "orders",
          id: order.orderId,
          exists: false,
          data: {
            sku: order.sku,
            quantity: order.quantity,
            customer: order.customer,
            amount: order.amount,
            status: "placed",
          },
        },
        compensation: { op: "delete", collection: "orders", id: order.orderId, exists: true },
      },
    ],
  }),
};
