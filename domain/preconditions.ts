/** Conditional requests (RFC 9110 §13): entity tags, If-Match / If-None-Match parsing and evaluation. */

export interface EntityTag {
  readonly weak: boolean;
  readonly opaque: string;
}

/** `*` or a list of entity tags; `undefined` when the header was absent. */
export type TagCondition = "*" | EntityTag[];

export interface Preconditions {
  readonly ifMatch?: TagCondition;
  readonly ifNoneMatch?: TagCondition;
}

export type PreconditionResult = "pass" | "failed" | "not-modified";

/** Parses an If-Match / If-None-Match value; null when it is not valid syntax. */
export function parseTagCondition(header: string): TagCondition | null {
  const trimmed = header.trim();
  if (trimmed === "*") return "*";
  const tags: EntityTag[] = [];
  // Entity tags may hold commas inside their quotes (RFC 9110 §8.8.3): match tags, then require only commas between.
  const item = /\s*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)/y;
  let at = 0;
  while (at < trimmed.length) {
    if (trimmed[at] === "," || trimmed[at] === " " || trimmed[at] === "\t") {
      at += 1;
      continue;
    }
    item.lastIndex = at;
    const match = item.exec(trimmed);
    if (match === null) return null;
    tags.push({ weak: match[1] !== undefined, opaque: match[2] ?? "" });
    at = item.lastIndex;
  }
  return tags.length > 0 ? tags : null;
}

/** Tessera's ETag for a version: strong, the version number quoted. */
export function etagFor(version: number): string {
  return `"${version}"`;
}

/**
 * Evaluates preconditions in RFC 9110 §13.2.2's order, before anything about the request itself:
 * `current` is the version of the current representation, or undefined when there is none (missing or deleted).
 * `safe` marks GET/HEAD, for which a matching If-None-Match is 304 rather than 412.
 */
export function evaluatePreconditions(
  preconditions: Preconditions,
  current: number | undefined,
  safe = false,
): PreconditionResult {
  const { ifMatch, ifNoneMatch } = preconditions;
  if (ifMatch !== undefined) {
    const ok =
      ifMatch === "*"
        ? current !== undefined
        : current !== undefined && ifMatch.some((tag) => !tag.weak && tag.opaque === String(current));
    if (!ok) return "failed";
  }
  if (ifNoneMatch !== undefined) {
    const matches =
      ifNoneMatch === "*"
        ? current !== undefined
        : current !== undefined && ifNoneMatch.some((tag) => tag.opaque === String(current));
    if (matches) return safe ? "not-modified" : "failed";
  }
  return "pass";
}
