/** The client under test, talking to the real Worker through its fetch handler (as test/helpers.ts's call does). */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { type TesseraOptions, tessera } from "../../client/src/index";
import worker from "../../workers/index";
import { defaultCredential } from "../helpers";

export const BASE = "http://tessera.test";

/** Requests as the Worker receives them from the network: through worker.fetch with an execution context. */
export async function workerFetch(request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** A client of the Worker as the tenant `default` (the tests' key), unless `options` say otherwise. */
export function client(options: Partial<TesseraOptions> = {}) {
  return tessera({ url: BASE, key: () => defaultCredential.key, fetch: workerFetch, ...options });
}
