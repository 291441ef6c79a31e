/**
 * Session consistency: the client keeps the Consistency-Token the service hands back and sends it with its
 * reads, so that it reads its own writes and never goes back to an older version than one it saw.
 *
 * The token is opaque; only the server merges it. A token comes back on every answer, built from the one the
 * request carried, so answers to requests that ran at the same time each lack the others' documents. The client
 * adopts an answer's token only when no other token was adopted since its request left; a concurrent answer's
 * documents are remembered instead (with the version it saw) and read strongly until a later token covers them.
 * So a session read is never older than the session's own writes, whatever runs concurrently.
 */
import type { Consistency } from "./types.js";

export interface DocumentRef {
  readonly collection: string;
  readonly id: string;
  readonly version: number;
}

/** What a request carried: the token and the session's generation when it left. */
export interface Ticket {
  readonly token: string | undefined;
  readonly generation: number;
}

/** How many documents the session tracks beyond the token before it reads every document strongly. */
const MAX_PENDING = 1_000;

const nameOf = (collection: string, id: string) => `${collection}\n${id}`;

export class Session {
  #token: string | undefined;
  #generation = 0;
  /** Documents whose latest version the token may not cover: read from the primary. */
  readonly #pending = new Map<string, number>();
  #overflowed = false;

  constructor(token?: string) {
    this.#token = token;
  }

  /** The token a later request (or another client) can carry on: `tessera({ token })`. */
  get token(): string | undefined {
    return this.#token;
  }

  ticket(): Ticket {
    return { token: this.#token, generation: this.#generation };
  }

  /** The headers of a read of one document at `level`, and the ticket for its answer. */
  readHeaders(
    collection: string,
    id: string,
    level: Consistency,
  ): { headers: Record<string, string>; ticket: Ticket } {
    const ticket = this.ticket();
    const headers: Record<string, string> = {};
    if (level === "eventual") return { headers, ticket };
    if (ticket.token !== undefined) headers["Consistency-Token"] = ticket.token;
    if (level === "strong" || this.#overflowed || this.#pending.has(nameOf(collection, id))) {
      headers.Consistency = "strong";
    }
    return { headers, ticket };
  }

  /** The headers of a write or a query (the token, for the answer to carry on). */
  carry(): { headers: Record<string, string>; ticket: Ticket } {
    const ticket = this.ticket();
    return { headers: ticket.token === undefined ? {} : { "Consistency-Token": ticket.token }, ticket };
  }

  /**
   * Takes in an answer's token; `documents` are what it wrote or read. `track` false: an answer the read model
   * gave, which a later read model answer cannot go back from, so there is nothing to remember if it is not adopted.
   */
  settle(ticket: Ticket, response: Response, documents: readonly DocumentRef[], track = true): void {
    const token = response.headers.get("consistency-token");
    if (token === null || token === "") return;
    if (ticket.generation === this.#generation) {
      this.#token = token;
      this.#generation += 1;
      for (const doc of documents) {
        const name = nameOf(doc.collection, doc.id);
        const pending = this.#pending.get(name);
        if (pending !== undefined && pending <= doc.version) this.#pending.delete(name);
      }
      return;
    }
    if (!track) return;
    for (const doc of documents) {
      const name = nameOf(doc.collection, doc.id);
      this.#pending.set(name, Math.max(this.#pending.get(name) ?? 0, doc.version));
    }
    if (this.#pending.size > MAX_PENDING) {
      this.#pending.clear();
      this.#overflowed = true;
    }
  }
}
