/** Builds the RPC's WriteRequest from a domain operation, as the edge would after reading the body. */
import type { WriteOperation } from "../domain/document";
import type { DocumentKey } from "../domain/keys";
import { formatPointer } from "../domain/patch/pointer";
import type { Preconditions } from "../domain/preconditions";
import type { WriteBody, WriteRequest } from "../domain/write-request";

export function bodyFor(operation: WriteOperation): WriteBody {
  switch (operation.type) {
    case "put":
      return { type: "put", json: JSON.stringify(operation.data) };
    case "merge-patch":
      return { type: "merge-patch", json: JSON.stringify(operation.patch) };
    case "json-patch":
      return {
        type: "json-patch",
        json: JSON.stringify(
          operation.operations.map((op) => ({
            ...op,
            path: formatPointer(op.path),
            ...("from" in op ? { from: formatPointer(op.from) } : {}),
          })),
        ),
      };
    case "delete":
      return { type: "delete" };
  }
}

export function requestFor(
  key: DocumentKey,
  operation: WriteOperation,
  preconditions: Preconditions = {},
  extra: Partial<Pick<WriteRequest, "idempotencyKey" | "createOnly" | "txId">> = {},
): WriteRequest {
  return { key, body: bodyFor(operation), preconditions, ...extra };
}
