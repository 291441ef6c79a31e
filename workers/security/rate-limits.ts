/**
 * Request rate limits per credential, on the platform's rate-limiting binding (no object on every request's
 * path). Tiers are named; each is one `[[ratelimits]]` binding in wrangler.toml, and this table says which and
 * what it allows (a tooling test checks that the two agree). A key names its tier; "none" is never limited.
 */

export interface Tier {
  readonly binding: RateLimitBinding;
  /** Requests allowed per period, per credential (per Cloudflare location in production: approximate). */
  readonly limit: number;
  readonly period: 10 | 60;
}

type RateLimitBinding =
  | "RATE_LIMIT_DEFAULT"
  | "RATE_LIMIT_LOW"
  | "RATE_LIMIT_HIGH"
  | "RATE_LIMIT_UNAUTHENTICATED";

export const TIERS = {
  default: { binding: "RATE_LIMIT_DEFAULT", limit: 1200, period: 60 },
  low: { binding: "RATE_LIMIT_LOW", limit: 60, period: 60 },
  high: { binding: "RATE_LIMIT_HIGH", limit: 12000, period: 60 },
} as const satisfies Record<string, Tier>;

/** Credential lookups that missed the cache, per client address: guessing keys costs the guesser, not D1. */
export const UNAUTHENTICATED: Tier = { binding: "RATE_LIMIT_UNAUTHENTICATED", limit: 120, period: 60 };

export type TierName = keyof typeof TIERS | "none";
export const TIER_NAMES = [...Object.keys(TIERS), "none"] as TierName[];

export function isTierName(value: string): value is TierName {
  return (TIER_NAMES as string[]).includes(value);
}

export function tierOf(name: string): (Tier & { readonly name: string }) | null {
  if (name === "none" || !Object.hasOwn(TIERS, name)) return null;
  return { name, ...TIERS[name as keyof typeof TIERS] };
}

/** The IETF RateLimit-Policy header's value for a tier. */
export function policyHeader(name: string, tier: Tier): string {
  return `"${name}";q=${tier.limit};w=${tier.period}`;
}

/** Counts one request against `key` in `tier`; false when the key is over its limit. */
export async function withinLimit(env: Env, tier: Tier, key: string): Promise<boolean> {
  const { success } = await env[tier.binding].limit({ key });
  return success;
}
