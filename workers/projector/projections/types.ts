/** A projection turns one resolved event into the D1 statements that apply it, idempotently and in any order. */
import type { BatchItem } from "drizzle-orm/batch";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import type { EventMessage } from "../../../domain/event-message";
import type { EventType } from "../../../domain/events";

export type ReadModelDb = DrizzleD1Database;

export interface Projection {
  readonly name: string;
  readonly handles: readonly EventType[];
  statements(db: ReadModelDb, event: EventMessage, projectedAt: number): BatchItem<"sqlite">[];
}

/** The state as the read model stores it: inline JSON, or the R2 reference for a large state. */
export function storedData(event: EventMessage): { data: string | null; dataRef: string | null } {
  return { data: event.data, dataRef: event.dataRef ?? null };
}
