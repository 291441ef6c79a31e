/** Running a transaction on its coordinator object, for the transaction route and for saga steps. */
import type { Remote } from "../domain/commands";
import { sha256Hex } from "../domain/digest";
import { monotonicIds } from "../domain/ids";
import type { TransactionOperation } from "../domain/transaction";
import type { TransactionResult, TransactionRpc } from "../domain/transaction-outcome";
import { callDocument, DEFAULT_RETRY } from "./documents-client";

const newTxId = monotonicIds();
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
