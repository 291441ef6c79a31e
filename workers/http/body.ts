/** Reading request bodies: media type, size limit (with or without Content-Length), UTF-8. */
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
  const patchTypes = accepted.filter((t) => t.endsWith("patch+json"));
  throw new HttpProblem(
    415,
    "unsupported-media-type",
    "Unsupported Media Type",
    `Content-Type must be ${accepted.join(" or ")} (UTF-8); got ${header === undefined ? "none" : JSON.stringify(header)}`,
    { accepted },
    // RFC 5789: a 415 to a PATCH says which patch formats the resource accepts.
    patchTypes.length > 0 ? { "Accept-Patch": patchTypes.join(", ") } : {},
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

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw badRequest("malformed-body", "the request body is not valid UTF-8");
  }
}

/** A body refused unread: its stream is cancelled, so that nothing waits on the bytes still coming. */
async function refuse(request: Request, limit: number): Promise<HttpProblem> {
  await request.body?.cancel().catch(() => {});
  return tooLarge(limit);
}

/** Reads the body as UTF-8 text, refusing it (413) as soon as it passes `limit` bytes, declared or not. */
export async function readBodyText(request: Request, limit: number): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^[0-9]{1,15}$/.test(declared)) {
    if (Number(declared) > limit) throw await refuse(request, limit);
    // The runtime holds a body to its declared length, so it can be read whole.
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > limit) throw tooLarge(limit);
    return decodeUtf8(bytes);
  }
  if (declared !== null && Number(declared) > limit) throw await refuse(request, limit);
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      // Released, not left half-read: the connection (and a dev server's proxy) can serve the next request.
      await reader.cancel().catch(() => {});
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
  return decodeUtf8(bytes);
}

/** A JSON request body: its media type checked, read up to `limit` bytes, parsed (400 malformed-json). */
export async function readJsonBody(request: Request, limit: number, mediaTypes = ["application/json"]) {
  requireMediaType(request.headers.get("content-type") ?? undefined, mediaTypes);
  const text = await readBodyText(request, limit);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpProblem(400, "malformed-json", "Bad Request", "the request body is not valid JSON");
  }
}
