import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      TEST_JWT_PRIVATE_KEYS: string;
      /** The second read-model database the tests spread tenants over (vitest.config.ts). */
      DB2: D1Database;
    }
  }
}
