/**
 * Bulk transfer: GET /v1/_export streams a tenant's documents as NDJSON, consistent as of one change-feed
 * position; POST /v1/_import applies NDJSON lines as PUTs, each keyed by the import's id and its line number, so
 * that sending a line again (a retry, a re-run after an interruption) replays it instead of applying it twice.
 */
import { envelopeJson, type WriteResult } from "../../domain/commands";
import { checkId, checkName, type DocumentKey } from "../../domain/keys";
import { dbFor } from "../../platform/databases";
import { errorText, log } from "../../platform/log";
import { admit } from "../admission";
import { configOf } from "../config";
import { tokenFrom } from "../consistency";
import { callDocument, DEFAULT_RETRY, documentStub } from "../documents-client";
import { readBodyText, requireMediaType } from "../http/body";
import { badRequest, HttpProblem } from "../http/problem";
import { jsonResponse, renderWrite } from "../http/render";
import { parseWith } from "../http/validate";
import { orUnavailable } from "../read-model/d1";
import { PAGE_CHARS, stateJson } from "../read-model/states";
import {
  ExportLine,
  ExportQuery,
  ImportBody,
  ImportHeaders,
  ImportResult,
  MAX_IMPORT_BYTES,
  MAX_IMPORT_LINES,
  NDJSON,
  ReadHeaders,
} from "../schemas";
import { needs, type TenantPrincipal } from "../security/principal";
import { checkCollection, tenantPrincipal } from "../security/tenancy";
import { encodeFeedCursor } from "./feed";
import { JSON_TYPE, problems } from "./openapi";
import { type Route, route } from "./table";

/** Rows per D1 page of an export: adapted to the states' sizes so a page stays near PAGE_CHARS. */
const FIRST_PAGE_ROWS = 200;
const MIN_PAGE_ROWS = 10;
const MAX_PAGE_ROWS = 1000;
/** Lines of one import request applied at once (each is a call to its document's object). */
const IMPORT_CONCURRENCY = 16;

interface ExportRow {
  collection: string;
  id: string;
  version: number;
  deleted: number;
  data: string | null;
  data_ref: string | null;
  created_at: number;
  updated_at: number;
  /** The change-feed seq of the row's version; null if the feed does not have it. */
  seq: number | null;
}

interface PastVersion {
  version: number | null;
  type: string | null;
  data: string | null;
  data_ref: string | null;
  committed_at: number | null;
  created_at: number | null;
  /** The document's oldest version still in D1 (feed retention moves older ones to R2). */
  oldest: number | null;
}

/** Where the export is: after this (collection, id); the first page of "every collection" starts at ("a", ""). */
interface Position {
  collection: string;
  id: string;
}

/**
 * The next page of a tenant's documents after `after`, in (collection, id) order, live or deleted (a document
 * deleted after the export's position was live at it), each with the feed seq of its version. Every user
 * collection's name starts with a-z, so starting at ("a", "") leaves out Tessera's own (`_sagas`).
 */
async function page(
  session: D1DatabaseSession,
  tenant: string,
  only: string | null,
  after: Position,
  limit: number,
): Promise<ExportRow[]> {
  const columns = `d.collection, d.id, d.version, d.deleted, d.data, d.data_ref, d.created_at, d.updated_at,
    c.seq AS seq`;
  const join = `LEFT JOIN changes AS c INDEXED BY changes_key_version
    ON c.tenant = d.tenant AND c.collection = d.collection AND c.id = d.id AND c.version = d.version`;
  const statement =
    only === null
      ? session
          .prepare(
            `SELECT ${columns} FROM documents AS d INDEXED BY documents_key ${join}
             WHERE d.tenant = ?1 AND (d.collection, d.id) > (?2, ?3) ORDER BY d.collection, d.id LIMIT ?4`,
          )
          .bind(tenant, after.collection, after.id, limit)
      : session
          .prepare(
            `SELECT ${columns} FROM documents AS d INDEXED BY documents_key ${join}
             WHERE d.tenant = ?1 AND d.collection = ?2 AND d.id > ?3 ORDER BY d.id LIMIT ?4`,
          )
          .bind(tenant, only, after.id, limit);
  return (await statement.all<ExportRow>()).results;
}

/**
 * A document as it was at feed position `position`: its newest version recorded at or before it, with the time
 * that incarnation was created (the first version after its last delete); "absent" when it did not exist then,
 * "unknown" when the versions that would say have left D1 (feed retention) and only the current one is known.
 */
async function asOf(
  session: D1DatabaseSession,
  tenant: string,
  row: ExportRow,
  position: number,
): Promise<PastVersion | "absent" | "unknown"> {
  const found = await session
    .prepare(
      `SELECT p.version, p.type, p.data, p.data_ref, p.committed_at,
         (SELECT min(o.version) FROM changes AS o INDEXED BY changes_key_version
          WHERE o.tenant = ?1 AND o.collection = ?2 AND o.id = ?3) AS oldest,
         (SELECT f.committed_at FROM changes AS f INDEXED BY changes_key_version
          WHERE f.tenant = ?1 AND f.collection = ?2 AND f.id = ?3 AND f.version <= p.version
            AND f.version > coalesce((SELECT max(x.version) FROM changes AS x INDEXED BY changes_key_version
              WHERE x.tenant = ?1 AND x.collection = ?2 AND x.id = ?3 AND x.version < p.version
                AND x.type = 'delete'), 0)
          ORDER BY f.version LIMIT 1) AS created_at
       FROM (SELECT 1) LEFT JOIN (SELECT * FROM changes INDEXED BY changes_key_version
         WHERE tenant = ?1 AND collection = ?2 AND id = ?3 AND seq <= ?4 ORDER BY version DESC LIMIT 1) AS p ON true`,
    )
    .bind(tenant, row.collection, row.id, position)
    .first<PastVersion>();
  if (found?.version === null || found === null) {
    // Nothing at or before the position in D1: the document did not exist then, unless its early versions were
    // moved out by feed retention (then its state at the position is not in D1).
    return found?.oldest === null || found?.oldest === undefined || found.oldest <= 1 ? "absent" : "unknown";
  }
  return found.type === "delete" ? "absent" : found;
}

/** The collections an export covers: one, the credential's list, or every one (null). */
function exportScope(principal: TenantPrincipal, collection: string | undefined): string[] | null {
  if (collection !== undefined) {
    checkCollection(principal, collection);
    return [collection];
  }
  return principal.collections === null ? null : [...principal.collections].sort();
}

/**
 * The export's lines, a page of documents at a time: each document as of `position` (the row as it is when its
 * version is at or before it, else the newest version that is, or nothing when it did not exist yet).
 */
async function* exportLines(
  session: D1DatabaseSession,
  archive: R2Bucket,
  tenant: string,
  scope: string[] | null,
  position: number,
  maxStateChars: number,
): AsyncGenerator<string> {
  let documents = 0;
  let limit = FIRST_PAGE_ROWS;
  for (const only of scope ?? [null]) {
    let after: Position = { collection: only ?? "a", id: "" };
    for (;;) {
      const rows = await page(session, tenant, only, after, limit);
      const lines = await Promise.all(
        rows.map(async (row) => {
          // The row's version is in the feed at or before the position, or so old that feed retention moved it
          // out of D1 (a change leaves D1 only well behind any position an export starts at): as it is.
          const past =
            row.seq === null || row.seq <= position ? "current" : await asOf(session, tenant, row, position);
          if (past === "absent") return null;
          if (past === "current" || past === "unknown") {
            // "unknown": changed after the position, and its state at the position is only in the feed's R2
            // segments; the current state stands in for it (docs/client.md says so).
            if (row.deleted === 1) return null;
            const data = await stateJson(archive, row);
            return envelopeJson(row, row.version, data ?? "{}", row.created_at, row.updated_at);
          }
          const data = await stateJson(archive, past);
          const committed = past.committed_at ?? row.updated_at;
          return envelopeJson(
            row,
            past.version ?? row.version,
            data ?? "{}",
            past.created_at ?? committed,
            committed,
          );
        }),
      );
      const text = lines.filter((l) => l !== null);
      documents += text.length;
      if (text.length > 0) yield `${text.join("\n")}\n`;
      const last = rows.at(-1);
      if (last === undefined || rows.length < limit) break;
      after = { collection: last.collection, id: last.id };
      // The next page's size from this one's: about PAGE_CHARS of states (one in R2 counts as the largest).
      const chars = rows.reduce(
        (n, r) => n + (r.data?.length ?? (r.data_ref === null ? 0 : maxStateChars)),
        0,
      );
      const perRow = Math.max(1, chars / rows.length);
      limit = Math.max(MIN_PAGE_ROWS, Math.min(MAX_PAGE_ROWS, Math.floor(PAGE_CHARS / perRow)));
    }
  }
  yield `${JSON.stringify({ tessera: "end", position: encodeFeedCursor(position), documents })}\n`;
}

/** A stream that pulls `lines` one chunk at a time: memory stays at about one page whatever the export's size. */
function streamOf(lines: AsyncGenerator<string>, first: string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let started = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          controller.enqueue(encoder.encode(first));
          return;
        }
        try {
          const next = await lines.next();
          if (next.done === true) controller.close();
          else controller.enqueue(encoder.encode(next.value));
        } catch (error) {
          // The body stops short of its last line: the client knows the export is incomplete.
          log.warn("export failed", { error: errorText(error) });
          controller.error(error);
        }
      },
      async cancel() {
        await lines.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

interface ImportLine {
  readonly line: number;
  readonly key: DocumentKey;
  readonly json: string;
}

type Refusal = ReturnType<typeof ImportResult.parse>["refused"][number];

const refusal = (
  line: number,
  status: number,
  code: string,
  detail: string,
  retryable = false,
  pointer?: string,
): Refusal => ({ line, status, code, detail, ...(pointer === undefined ? {} : { pointer }), retryable });

/** One line of an import body: a write, a line to skip, or why it is refused. */
function parseLine(principal: TenantPrincipal, text: string, line: number): ImportLine | "skip" | Refusal {
  if (text.trim() === "") return "skip";
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return refusal(line, 400, "malformed-json", `line ${line} is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return refusal(line, 400, "invalid-line", `line ${line} is not a JSON object`);
  }
  const fields = value as Record<string, unknown>;
  // An export's first and last lines.
  if (typeof fields.tessera === "string") return "skip";
  const { collection, id, data } = fields;
  if (typeof collection !== "string" || !checkName("collection", collection).ok) {
    return refusal(line, 400, "invalid-collection", `line ${line}: "collection" is not a collection name`);
  }
  if (typeof id !== "string") return refusal(line, 400, "invalid-id", `line ${line}: "id" is not a string`);
  const idCheck = checkId(id);
  if (!idCheck.ok) return refusal(line, 400, "invalid-id", `line ${line}: ${idCheck.reason}`);
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return refusal(
      line,
      422,
      "document-not-object",
      `line ${line}: "data" is not a JSON object`,
      false,
      "/data",
    );
  }
  if (principal.collections !== null && !principal.collections.includes(collection)) {
    return refusal(
      line,
      403,
      "insufficient-scope",
      `this credential may not use the collection ${collection}`,
    );
  }
  return { line, key: { tenant: principal.tenant, collection, id }, json: JSON.stringify(data) };
}

/** What a write's outcome counts as: the same rules a single PUT's answer follows (workers/http/render.ts). */
function outcomeOf(item: ImportLine, result: WriteResult): "written" | "replayed" | Refusal {
  if (result.kind === "committed") return result.replayed ? "replayed" : "written";
  try {
    renderWrite(item.key, result, {});
  } catch (error) {
    if (error instanceof HttpProblem) {
      const pointer = error.extensions.pointer;
      return refusal(
        item.line,
        error.status,
        error.code,
        error.message,
        error.code === "document-locked",
        typeof pointer === "string" ? pointer : undefined,
      );
    }
  }
  return refusal(item.line, 500, "internal", "the write had an outcome the import does not know");
}

/** Applies the lines, IMPORT_CONCURRENCY at a time; lines of one document one after another, in line order. */
async function applyLines(env: Env, importId: string, items: readonly ImportLine[]) {
  const outcomes: Array<"written" | "replayed" | Refusal> = [];
  const chains = new Map<string, Promise<void>>();
  let next = 0;
  const apply = async (item: ImportLine) => {
    try {
      const result = await callDocument(
        () => documentStub(env.DOCUMENTS, item.key),
        (stub) =>
          stub.write({
            key: item.key,
            body: { type: "put", json: item.json },
            preconditions: {},
            idempotencyKey: `import:${importId}:${item.line}`,
          }),
        { ...DEFAULT_RETRY, idempotent: true },
      );
      outcomes.push(outcomeOf(item, result));
    } catch (error) {
      if (!(error instanceof HttpProblem)) log.warn("import line failed", { error: errorText(error) });
      outcomes.push(
        error instanceof HttpProblem
          ? refusal(item.line, error.status, error.code, error.message, error.status === 503)
          : refusal(
              item.line,
              503,
              "unavailable",
              `the document's object failed (${errorText(error)}); send the line again`,
              true,
            ),
      );
    }
  };
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as ImportLine;
      const name = `${item.key.collection}/${item.key.id}`;
      const run = (chains.get(name) ?? Promise.resolve()).then(() => apply(item));
      chains.set(name, run);
      await run;
    }
  };
  await Promise.all(Array.from({ length: Math.min(IMPORT_CONCURRENCY, items.length) }, worker));
  return outcomes;
}

export const transferRoutes: Route[] = [
  route(
    {
      operationId: "exportDocuments",
      method: "get",
      path: "/v1/_export",
      summary: "Stream the tenant's documents as NDJSON, consistent as of one change-feed position",
      description:
        "The first line names the position (also in Export-Position): every document is as it was once the " +
        "changes up to it were applied, in (collection, id) order; documents created after it are left out and " +
        "documents changed or deleted after it are exported as they were. The last line counts the documents: " +
        "a body without it was cut short. Served by the read model.",
      request: {
        query: ExportQuery,
        headers: ReadHeaders.pick({ "Consistency-Token": true, "X-Request-Id": true }),
      },
      responses: {
        200: {
          description: "the export, one JSON object per line",
          content: { [NDJSON]: { schema: ExportLine } },
          headers: {
            "Export-Position": {
              description: "the change-feed position the export is consistent as of (a feed cursor)",
              schema: { type: "string" },
            },
            "X-Request-Id": { description: "this request's id, as logged", schema: { type: "string" } },
          },
        },
        ...problems(400, 503),
      },
    },
    needs("read"),
    async (c) => {
      const principal = tenantPrincipal(c);
      const query = parseWith(ExportQuery, c.req.query(), "query parameter");
      const scope = exportScope(principal, query.collection);
      const bookmark = tokenFrom(c.req.raw.headers)?.bookmark;
      // One session for the whole export: every page sees the read model at least as new as the one before.
      const tenant = principal.tenant;
      const db = await orUnavailable("tenant's database", () => dbFor(c.env, tenant));
      const session = db.withSession(bookmark ?? "first-primary");
      const { position, estimate } = await orUnavailable("export position", async () => {
        const head = await session
          .prepare(
            "SELECT coalesce(max(seq), 0) AS seq FROM changes INDEXED BY changes_by_tenant WHERE tenant = ?",
          )
          .bind(tenant)
          .first<{ seq: number }>();
        const counted = await session
          .prepare(
            `SELECT coalesce(sum(documents), 0) AS n FROM collection_stats WHERE tenant = ?1 AND ${
              scope === null ? "collection >= 'a'" : "collection IN (SELECT value FROM json_each(?2))"
            }`,
          )
          .bind(tenant, ...(scope === null ? [] : [JSON.stringify(scope)]))
          .first<{ n: number }>();
        return { position: head?.seq ?? 0, estimate: counted?.n ?? 0 };
      });
      const cursor = encodeFeedCursor(position);
      const first = `${JSON.stringify({
        tessera: "export",
        position: cursor,
        collection: query.collection ?? null,
        estimate,
      })}\n`;
      const lines = exportLines(
        session,
        c.env.ARCHIVE,
        tenant,
        scope,
        position,
        configOf(c.env).maxDocumentBytes,
      );
      return new Response(streamOf(lines, first), {
        headers: {
          "Content-Type": `${NDJSON}; charset=utf-8`,
          "Export-Position": cursor,
          "Read-Source": "read-model",
          "Cache-Control": "no-store",
        },
      });
    },
  ),
  route(
    {
      operationId: "importDocuments",
      method: "post",
      path: "/v1/_import",
      summary:
        "Write NDJSON lines as documents (PUT), idempotently: a line sent again is replayed, not applied twice",
      description:
        `At most ${MAX_IMPORT_LINES} lines and ${MAX_IMPORT_BYTES} bytes per request; send a file in chunks, ` +
        "each with the number of its first line (Import-Line). Each line is a PUT of its document with the " +
        "Idempotency-Key import:{Import-Id}:{line}, so a re-run of an interrupted import replays what was applied " +
        "(within IDEMPOTENCY_TTL_SECONDS) and applies the rest. Imported documents start their own history. A " +
        "line that cannot be written is refused on its own, with its reason; the others are applied.",
      request: {
        headers: ImportHeaders,
        body: { content: { [NDJSON]: { schema: ImportBody } }, required: true },
      },
      responses: {
        200: {
          description: "what became of each line",
          content: { [JSON_TYPE]: { schema: ImportResult } },
          headers: {
            "Projection-Lag": {
              description: "how far behind the read model is, in ms",
              schema: { type: "string" },
            },
            "X-Request-Id": { description: "this request's id, as logged", schema: { type: "string" } },
          },
        },
        ...problems(400, 413, 415, 503),
      },
    },
    needs("write"),
    async (c) => {
      const principal = tenantPrincipal(c);
      requireMediaType(c.req.header("content-type"), [NDJSON, "application/jsonl"]);
      const headers = parseWith(
        ImportHeaders,
        { "Import-Id": c.req.header("import-id"), "Import-Line": c.req.header("import-line") },
        "header",
        "invalid-import",
      );
      const first = headers["Import-Line"] === undefined ? 1 : Number(headers["Import-Line"]);
      if (!Number.isSafeInteger(first) || first < 1)
        throw badRequest("invalid-import", "Import-Line must be 1 or more");
      const text = await readBodyText(c.req.raw, MAX_IMPORT_BYTES);
      const rows = text.split("\n");
      if (rows.at(-1) === "") rows.pop();
      if (rows.length > MAX_IMPORT_LINES) {
        throw badRequest(
          "invalid-import",
          `a request may carry at most ${MAX_IMPORT_LINES} lines (it has ${rows.length}); send the file in chunks`,
        );
      }
      const refused: Refusal[] = [];
      const items: ImportLine[] = [];
      let skipped = 0;
      rows.forEach((row, i) => {
        const parsed = parseLine(principal, row.endsWith("\r") ? row.slice(0, -1) : row, first + i);
        if (parsed === "skip") skipped += 1;
        else if ("key" in parsed) items.push(parsed);
        else refused.push(parsed);
      });
      const lag = admit(c, [...new Set(items.map((item) => item.key.collection))]);
      const importId = headers["Import-Id"];
      const outcomes = await applyLines(c.env, importId, items);
      let written = 0;
      let replayed = 0;
      for (const outcome of outcomes) {
        if (outcome === "written") written += 1;
        else if (outcome === "replayed") replayed += 1;
        else refused.push(outcome);
      }
      refused.sort((a, b) => a.line - b.line);
      return jsonResponse(
        { importId, first, lines: rows.length, written, replayed, skipped, refused },
        200,
        lag,
      );
    },
  ),
];
