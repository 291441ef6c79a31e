/** Where a tenant's read model lives by default; pure, so that the benchmarks place tenants as the Worker does. */
import { hash53 } from "./hash";

/** The default home of a tenant among the read model's database bindings: stable for a given list. */
export function defaultBinding(bindings: readonly string[], tenant: string): string {
  return bindings[hash53(tenant) % bindings.length] ?? "DB";
}
