/**
 * The harnesses authenticate like a client: Tessera gets a fixed operator secret (a local value, never a real
 * one), and each time it starts the harness holds an API key of the tenant HARNESS_TENANT, with every scope and no
 * rate limit (the default tier would stop a benchmark within seconds), made through the key API. Every request
 * the harness sends to that server carries it: `authHeaders` and `authFetch` look it up by the URL's origin, so
 * the load generators, seeding, stats and the chaos clients need no credential of their own. Servers without
 * one (the floors, D1-direct) get no header; a build from before authentication has no key API and gets none.
 */

/** The operator secret the harnesses give Tessera (TESSERA_ADMIN_SECRET: at least 16 characters). */
export const HARNESS_ADMIN_SECRET = "tessera-harness-operator-secret-local-only";
/** The bindings a Tessera system needs to take the harness's credentials. */
export const AUTH_BINDINGS = { TESSERA_ADMIN_SECRET: HARNESS_ADMIN_SECRET } as const;
/** The tenant the harness's keys act for: where its documents live (`bench/<collection>/<id>`). */
export const HARNESS_TENANT = "bench";

/** Per origin: the Authorization header to send ({} for a build without authentication). */
const credentials = new Map<string, Record<string, string>>();
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** The credential headers for a request to `url`: none for a server the harness holds no key for. */
export function authHeaders(url: string): Record<string, string> {
  return credentials.get(new URL(url).origin) ?? {};
}

/** fetch(), with the credential of the server `url` names (headers the caller gives win). */
export function authFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(authHeaders(url));
  new Headers(init.headers).forEach((value, name) => {
    headers.set(name, value);
  });
  return fetch(url, { ...init, headers });
}

async function answer(res: Response): Promise<string> {
  const text = await res.text();
  return `${res.status}${text === "" ? "" : ` ${text.slice(0, 300)}`}`;
}

/** The server's stats, asked for with `headers`: the check every version of Tessera answers. */
async function works(origin: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${origin}/v1/_stats`, { headers, signal: AbortSignal.timeout(30_000) });
}

/**
 * Signs the harness in to a Tessera system that has just started at `url` (`label` names it in messages). On
 * fresh state, or when no key is held yet, it makes a key; on state kept from an earlier start (a restart with
 * its state on disk) it checks that the key it holds still works: the key is in D1, and the new process's Worker
 * has to look it up there (its key cache is per isolate). The check also leaves the key in that cache, so the
 * first burst of load does not start with a lookup per connection.
 */
export async function signIn(url: string, label: string, fresh: boolean): Promise<void> {
  const origin = new URL(url).origin;
  const held = credentials.get(origin);
  if (!fresh && held !== undefined) {
    const res = await works(origin, held);
    if (!res.ok) {
      throw new Error(
        `${label}: the credential made at its first start is refused after a restart with its state on disk: GET /v1/_stats answered ${await answer(res)}`,
      );
    }
    await res.arrayBuffer();
    return;
  }
  const res = await fetch(`${origin}/v1/_admin/keys`, {
    method: "POST",
    headers: { ...bearer(HARNESS_ADMIN_SECRET), "content-type": "application/json" },
    body: JSON.stringify({
      tenant: HARNESS_TENANT,
      scopes: ["read", "write", "admin"],
      name: "bench harness",
      rateLimit: "none",
    }),
    signal: AbortSignal.timeout(30_000),
  });
  if (res.status === 404 || res.status === 405) {
    // A build from before authentication: no key API, and it ignores the header anyway.
    await res.arrayBuffer();
    if (held === undefined) {
      console.error(
        `${label}: POST /v1/_admin/keys answered ${res.status}, a build from before authentication: its requests carry no credential`,
      );
    }
    credentials.set(origin, {});
    return;
  }
  if (res.status !== 201) {
    throw new Error(
      `${label}: making the harness's API key, POST /v1/_admin/keys answered ${await answer(res)}`,
    );
  }
  const { key } = (await res.json()) as { key?: unknown };
  if (typeof key !== "string") throw new Error(`${label}: POST /v1/_admin/keys answered 201 without a key`);
  const check = await works(origin, bearer(key));
  if (!check.ok) {
    throw new Error(`${label}: the new API key is refused: GET /v1/_stats answered ${await answer(check)}`);
  }
  await check.arrayBuffer();
  credentials.set(origin, bearer(key));
}
