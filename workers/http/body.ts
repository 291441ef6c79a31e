/** Reading request bodies: media type, size limit (with or without Content-Length), UTF-8, JSON syntax. */
import { badRequest, HttpProblem } from "./problem";

export interface MediaType {
  readonly type: string;
  readonly params: Record<string, string>;
}

export function parseMediaType(header: string | undefined): MediaType | null {
  if (header === undefined) return null;
  const [type = "", ...rest] = header.split(";");
  const params: Record<string, string> = {};
  for (const part of rest) {
    const eq = part.indexOf("=");
    if (eq > 0)
      params[part.slice(0, eq).trim().toLowerCase()] = part
        .slice(eq + 1)
        .trim()
        .replace(/^"|"$/g, "");
  }
  return { type: type.trim().toLowerCase(), params };
}

/** Checks Content-Type against the accepted media types and returns the one that matched (415 otherwise). */
export function requireMediaType(header: string | undefined, accepted: readonly string[]): string {
  const media = parseMediaType(header);
  const charset = media?.params.charset?.toLowerCase();
  if (media !== null && accepted.includes(media.type) && (charset === undefined || charset === "utf-8")) {
    return media.type;
  }
  throw new HttpProblem(
    415,
    "unsupported-media-type",
    "Unsupported Media Type",
    `Content-Type must be ${accepted.join(" or ")} (UTF-8); got ${header === undefined ? "none" : JSON.stringify(header)}`,
    { accepted },
    { "Accept-Patch": accepted.filter((t) => t.includes("patch")).join(", ") || accepted.join(", ") },
  );
}

function tooLarge(limit: number): HttpProblem {
  return new HttpProblem(
    413,
    "body-too-large",
    "Content Too Large",
    `the request body exceeds ${limit} bytes`,
    {
      limit,
    },
  );
}

/** Reads the body as UTF-8 text, refusing it (413) as soon as it passes `limit` bytes, declared or not. */
export async function readBodyText(request: Request, limit: number): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw badRequest("malformed-body", "the request body is not valid UTF-8");
  }
}

/** Reads and parses a JSON body: 413 past the limit, 400 when it is not syntactically JSON. */
export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  const text = await readBodyText(request, limit);
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : "invalid JSON";
    throw badRequest("malformed-json", `the request body is not valid JSON: ${reason}`);
  }
}
