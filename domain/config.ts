/** Deployment settings from `[vars]`, parsed once and checked, with the documented defaults. */

export interface Config {
  readonly maxDocumentBytes: number;
  readonly idempotencyTtlMs: number;
  /** The least severe log entry written: request lines are `info`, faults `warn` and `error`. */
  readonly logLevel: LogLevel;
  /** Above this projection lag (ms), writes to collections that opt in are refused with 503 projection-behind. */
  readonly maxProjectionLagMs: number;
  /** The change feed keeps this long in D1; older changes move to R2 feed segments (retention.ts). */
  readonly feedRetentionMs: number;
  /** And at most this many changes per tenant in D1 (null: no cap by count). */
  readonly feedRetentionRows: number | null;
}

export const LOG_LEVELS = ["debug", "info", "warn", "error", "off"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ConfigVars {
  readonly MAX_DOCUMENT_BYTES?: string;
  readonly IDEMPOTENCY_TTL_SECONDS?: string;
  readonly LOG_LEVEL?: string;
  readonly MAX_PROJECTION_LAG_MS?: string;
  readonly FEED_RETENTION_HOURS?: string;
  readonly FEED_RETENTION_ROWS?: string;
}

export const DEFAULT_MAX_DOCUMENT_BYTES = 1024 * 1024;
/** A document is one row of its object's SQLite, which holds at most 2 MB: keep room for the rest of the row. */
export const MAX_DOCUMENT_BYTES_LIMIT = 1_900_000;
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
export const DEFAULT_FEED_RETENTION_HOURS = 7 * 24;

function positiveInt(
  name: string,
  raw: string | undefined,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  if (value > max) throw new Error(`${name} must be at most ${max}, got ${value}`);
  return value;
}

function logLevel(raw: string | undefined): LogLevel {
  if (raw === undefined || raw === "") return "info";
  const level = LOG_LEVELS.find((l) => l === raw.toLowerCase());
  if (level === undefined) throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${raw}"`);
  return level;
}

export function readConfig(vars: ConfigVars): Config {
  return {
    maxDocumentBytes: positiveInt(
      "MAX_DOCUMENT_BYTES",
      vars.MAX_DOCUMENT_BYTES,
      DEFAULT_MAX_DOCUMENT_BYTES,
      MAX_DOCUMENT_BYTES_LIMIT,
    ),
    idempotencyTtlMs:
      positiveInt("IDEMPOTENCY_TTL_SECONDS", vars.IDEMPOTENCY_TTL_SECONDS, DEFAULT_IDEMPOTENCY_TTL_SECONDS) *
      1000,
    logLevel: logLevel(vars.LOG_LEVEL),
    maxProjectionLagMs: positiveInt("MAX_PROJECTION_LAG_MS", vars.MAX_PROJECTION_LAG_MS, 30_000),
    feedRetentionMs:
      positiveInt(
        "FEED_RETENTION_HOURS",
        vars.FEED_RETENTION_HOURS,
        DEFAULT_FEED_RETENTION_HOURS,
        24 * 366 * 10,
      ) * 3_600_000,
    feedRetentionRows:
      vars.FEED_RETENTION_ROWS === undefined || vars.FEED_RETENTION_ROWS === ""
        ? null
        : positiveInt("FEED_RETENTION_ROWS", vars.FEED_RETENTION_ROWS, 1),
  };
}
