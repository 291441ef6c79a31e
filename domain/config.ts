/** Deployment settings from `[vars]`, parsed once and checked, with the documented defaults. */

export interface Config {
  readonly maxDocumentBytes: number;
  readonly idempotencyTtlMs: number;
  readonly logRequests: boolean;
}

export interface ConfigVars {
  readonly MAX_DOCUMENT_BYTES?: string;
  readonly IDEMPOTENCY_TTL_SECONDS?: string;
  readonly LOG_REQUESTS?: string;
}

export const DEFAULT_MAX_DOCUMENT_BYTES = 1024 * 1024;
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

export function readConfig(vars: ConfigVars): Config {
  return {
    maxDocumentBytes: positiveInt("MAX_DOCUMENT_BYTES", vars.MAX_DOCUMENT_BYTES, DEFAULT_MAX_DOCUMENT_BYTES),
    idempotencyTtlMs:
      positiveInt("IDEMPOTENCY_TTL_SECONDS", vars.IDEMPOTENCY_TTL_SECONDS, DEFAULT_IDEMPOTENCY_TTL_SECONDS) *
      1000,
    logRequests: vars.LOG_REQUESTS !== "false",
  };
}
