import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { defaultCredential, makeKey } from "./helpers";

// Every test file gets its own storage; give its D1 the read model's schema.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await applyD1Migrations(env.DB2, env.TEST_MIGRATIONS);

// Every request of the tests authenticates as the tenant `default`, with every scope, unless it says otherwise.
defaultCredential.key = await makeKey({ name: "the tests' default" });
