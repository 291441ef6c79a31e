import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Every test file gets its own storage; give its D1 the read model's schema.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
