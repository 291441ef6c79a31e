/** Running a transaction on its coordinator object, for the transaction route and for saga steps. */
import type { Remote } from "../domain/commands";
import { sha256Hex } from "../domain/digest";
import { monotonicIds } from "../domain/ids";
import type { TransactionOperation } from "../domain/transaction";
import type { TransactionResult, TransactionRpc } from "../domain/transaction-outcome";
import { callDocument, DEFAULT_RETRY } from "./documents-client";

const newTxId = monotonicIds();

/** The transaction id an Idempotency-Key names in a tenant: the same key always reaches the same coordinator. */
async function txIdFor(tenant: string, idempotencyKey: string): Promise<string> {
  return `k${(await sha256Hex(`${tenant}\n${idempotencyKey}`)).slice(0, 32)}`;
}

/**
 * How the transaction an Idempotency-Key names ended: commit, or abort (also when it never ran, or never decided:
 * asking makes its coordinator decide abort, so the answer holds).
 */
export async function transactionOutcome(
  env: Env,
  tenant: string,
  idempotencyKey: string,
): Promise<"commit" | "abort"> {
  const txId = await txIdFor(tenant, idempotencyKey);
  const namespace = env.TRANSACTIONS;
  const stub = namespace.get(
    namespace.idFromName(`${tenant}/_tx/${txId}`),
  ) as unknown as Remote<TransactionRpc>;
  return (await stub.outcome(txId)).kind;
}
/** A transaction prepares up to 100 documents one after another: its coordinator may take seconds. */
const COORDINATOR_POLICY = { ...DEFAULT_RETRY, attemptTimeoutMs: 30_000, deadlineMs: 35_000 };

/**
 * Runs `operations` in `tenant`. With an Idempotency-Key the transaction's id (and so its coordinator) is derived
 * from it, so a retry reaches the same coordinator and gets the first outcome; `fingerprint` says what "the
 * same transaction" means for it.
 */
export async function runTransaction(
  env: Env,
  tenant: string,
  operations: TransactionOperation[],
  fingerprint: string,
  idempotencyKey: string | undefined,
): Promise<TransactionResult & { txId?: string }> {
  const txId =
    idempotencyKey === undefined
      ? newTxId()
      : `k${(await sha256Hex(`${tenant}\n${idempotencyKey}`)).slice(0, 32)}`;
  const coordinator = `${tenant}/_tx/${txId}`;
  const namespace = env.TRANSACTIONS;
  return callDocument(
    (): Remote<TransactionRpc> =>
      namespace.get(namespace.idFromName(coordinator)) as unknown as Remote<TransactionRpc>,
    (stub) => stub.run({ txId, coordinator, fingerprint, operations }),
    { ...COORDINATOR_POLICY, idempotent: idempotencyKey !== undefined },
  );
}
