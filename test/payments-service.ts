/**
 * A stand-in payment service for the saga tests, on the allow-list as https://payments.test: it charges and
 * refunds, remembers each Idempotency-Key's answer (a repeat gets the first answer and charges nothing), refuses
 * charges over 1,000 with 402, and can be told to fail refunds (`POST /_control {"refunds": "fail"}`). Runs in
 * Node, as the Worker's outbound service (vitest.config.ts).
 */
interface Entry {
  kind: "charge" | "refund";
  reference: string;
  amount: number;
}

const answers = new Map<string, { status: number; body: string }>();
const ledger: Entry[] = [];
let refunds: "ok" | "fail" = "ok";
/** Charges answered 503 after they took effect, as a service that crashed after its commit (a retry replays). */
let crashAfterCharge = 0;

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

export async function paymentsService(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.origin !== "https://payments.test")
    return json(502, { error: `no network in tests: ${url.origin}` });
  if (url.pathname === "/_ledger") return json(200, ledger);
  if (url.pathname === "/_control") {
    const control = (await request.json()) as { refunds?: "ok" | "fail"; crashAfterCharge?: number };
    if (control.refunds !== undefined) refunds = control.refunds;
    if (control.crashAfterCharge !== undefined) crashAfterCharge = control.crashAfterCharge;
    return json(200, { refunds, crashAfterCharge });
  }
  // A charge that takes a while: a saga can be cancelled, or its runtime reset, while it runs.
  if (url.pathname === "/slow") await new Promise((resolve) => setTimeout(resolve, 1_500));
  const kind =
    url.pathname === "/charges" || url.pathname === "/slow" || url.pathname === "/flaky"
      ? "charge"
      : url.pathname === "/refunds"
        ? "refund"
        : null;
  if (kind === null || request.method !== "POST") return json(404, { error: "not found" });
  const key = request.headers.get("idempotency-key");
  if (key === null) return json(400, { error: "an Idempotency-Key is required" });
  const seen = answers.get(key);
  if (seen !== undefined && url.pathname === "/flaky") return json(503, { error: "flaky after the charge" });
  if (seen !== undefined)
    return new Response(seen.body, { status: seen.status, headers: { "idempotent-replayed": "true" } });
  const body = (await request.json()) as { reference: string; amount: number };
  let status = 201;
  let answer: unknown = { ok: true };
  if (kind === "charge" && body.amount > 1000) [status, answer] = [402, { error: "declined" }];
  else if (kind === "refund" && refunds === "fail")
    [status, answer] = [400, { error: "refunds are failing" }];
  else ledger.push({ kind, reference: body.reference, amount: body.amount });
  // A refusal a caller might retry is not remembered; a decision is.
  if (status < 500) answers.set(key, { status, body: JSON.stringify(answer) });
  // /flaky takes the charge and then never answers well: every retry gets 503 (the first answer is kept).
  if (url.pathname === "/flaky") return json(503, { error: "flaky after the charge" });
  if (kind === "charge" && status === 201 && crashAfterCharge > 0) {
    crashAfterCharge -= 1;
    return json(503, { error: "crashed after the charge" });
  }
  return json(status, answer);
}
