/**
 * Starting the read model's maintenance workflows from the edge (each instance named, so a start is idempotent).
 * Nothing here imports a workflow class: those need workerd's `cloudflare:workers`, and the edge's modules must load
 * in plain Node too (the OpenAPI script builds the app there).
 */
import { errorText, log } from "../../platform/log";

export interface BackfillParams {
  readonly tenant: string;
  readonly collection: string;
  readonly signature: string;
}

/** The backfill of a tenant's collection under a declaration: one workflow instance each. */
export function backfillId(params: BackfillParams): string {
  return `backfill-${params.tenant}-${params.collection}-${params.signature}`.slice(0, 100);
}

/**
 * Starts a backfill unless one runs already, and restarts one that failed (each step retries on its own first, so
 * a failed instance means D1 or R2 was down for a while). A failure here only delays the backfill to the next query
 * that finds it needed.
 */
export async function startBackfill(env: Env, params: BackfillParams): Promise<void> {
  const id = backfillId(params);
  try {
    const created = await env.BACKFILLS.create({ id, params }).then(
      () => true,
      () => false, // the id is taken: it runs, or ran
    );
    if (created) return;
    const instance = await env.BACKFILLS.get(id);
    const { status } = await instance.status();
    if (status === "errored" || status === "terminated") await instance.restart();
  } catch (error) {
    log.warn("backfill not started", { id, error: errorText(error) });
  }
}
