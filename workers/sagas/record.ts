/**
 * A saga's record: the document `_sagas/{id}` in the saga's tenant, owned by its own document object like any
 * document. Each transition is a write (a JSON Patch) with an Idempotency-Key of its own, so a replayed workflow
 * step records it once; each write is a new version, so the change feed carries the saga's life to whoever
 * follows it, and the read model answers listings by status.
 */
import type { ReadResult, WriteResult } from "../../domain/commands";
import type { DocumentKey } from "../../domain/keys";
import { initialRecord, SAGA_COLLECTION, type SagaRecord, type SagaStep } from "../../domain/saga";
import { callDocument, DEFAULT_RETRY, documentStub } from "../documents-client";

export type PatchOp =
  | { op: "replace" | "add" | "test"; path: string; value: unknown }
  | { op: "increment"; path: string; value: number };

export const recordKey = (tenant: string, sagaId: string): DocumentKey => ({
  tenant,
  collection: SAGA_COLLECTION,
  id: sagaId,
});

/** The Workflows instance of a saga: tenant and id (ids are fixed-length, so the pair is unambiguous). */
export const instanceId = (tenant: string, sagaId: string) => `${tenant}--${sagaId}`;

export class SagaRecordStore {
  constructor(
    private readonly env: Env,
    private readonly key: DocumentKey,
  ) {}

  private write(body: { type: "put" | "json-patch"; json: string }, idempotencyKey?: string, create = false) {
    return callDocument(
      () => documentStub(this.env.DOCUMENTS, this.key),
      (stub) =>
        stub.write({
          key: this.key,
          body,
          preconditions: create ? { ifNoneMatch: "*" } : {},
          ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        }),
      { ...DEFAULT_RETRY, idempotent: idempotencyKey !== undefined },
    );
  }

  /** Writes the record a saga starts with; anything but `committed` means the saga exists already. */
  async create(name: string, steps: readonly SagaStep[], now: string, request: string): Promise<WriteResult> {
    const record = initialRecord(name, steps, now, request);
    return this.write({ type: "put", json: JSON.stringify(record) }, undefined, true);
  }

  /** Asks a running saga to stop; false when it is not running any more. */
  async requestCancel(): Promise<boolean> {
    const result = await this.write({
      type: "json-patch",
      json: JSON.stringify([
        { op: "test", path: "/status", value: "running" },
        { op: "replace", path: "/cancelRequested", value: true },
      ]),
    });
    return result.kind === "committed";
  }

  /** Applies a transition; `label` names it, once per saga (the Idempotency-Key). Throws when it cannot apply. */
  async transition(label: string, ops: PatchOp[], now: string): Promise<void> {
    const patch = [...ops, { op: "replace", path: "/updatedAt", value: now }];
    const result = await this.write(
      { type: "json-patch", json: JSON.stringify(patch) },
      `${this.key.id}-record-${label}`,
    );
    // The key names this transition of this saga, so a key already used means the transition is recorded: a step
    // Workflows runs again after a restart sends it with another time in the body, which the object refuses as a
    // different request, and that refusal is the proof it committed the first time.
    if (result.kind === "idempotency-key-reused") return;
    if (result.kind !== "committed") throw new Error(`the saga record refused ${label}: ${result.kind}`);
  }

  /** Counts an attempt of a phase (no key: every attempt counts). */
  async attempt(step: number, phase: "action" | "compensation", now: string): Promise<void> {
    const at = `/steps/${step}/${phase}`;
    const result = await this.write({
      type: "json-patch",
      json: JSON.stringify([
        { op: "increment", path: `${at}/attempts`, value: 1 },
        { op: "replace", path: `${at}/status`, value: "running" },
        { op: "replace", path: "/updatedAt", value: now },
      ]),
    });
    if (result.kind !== "committed") throw new Error(`the saga record refused an attempt: ${result.kind}`);
    if (result.body !== null) {
      const record = (JSON.parse(result.body) as { data: SagaRecord }).data;
      const phaseRecord = record.steps[step]?.[phase];
      if (phaseRecord?.startedAt === null) {
        await this.write({
          type: "json-patch",
          json: JSON.stringify([{ op: "replace", path: `${at}/startedAt`, value: now }]),
        });
      }
    }
  }

  /** The record as its object holds it now (a strong read). */
  async read(): Promise<SagaRecord | null> {
    const result: ReadResult = await callDocument(
      () => documentStub(this.env.DOCUMENTS, this.key),
      (stub) => stub.read(this.key),
      { ...DEFAULT_RETRY, idempotent: true },
    );
    if (result.kind === "locked") throw new Error("the saga record is held");
    return result.kind === "found" ? (JSON.parse(result.body) as { data: SagaRecord }).data : null;
  }
}
