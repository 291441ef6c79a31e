import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { TEST_ADMIN_SECRET } from "./test/credentials.ts";
import { TEST_JWT, testJwtKeys } from "./test/jwt-keys.ts";
import { paymentsService } from "./test/payments-service.ts";

export default defineConfig({
  plugins: [
    cloudflareTest(async () => {
      const jwt = await testJwtKeys();
      return {
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          // Every fetch the Worker makes leaves through here: the payment service, and nothing else.
          outboundService: paymentsService,
          // A second read-model database: tenants are spread over both (READ_MODEL_DATABASES below).
          d1Databases: ["DB", "DB2"],
          bindings: {
            TESSERA_ADMIN_SECRET: TEST_ADMIN_SECRET,
            READ_MODEL_DATABASES: "DB,DB2",
            // A move waits out isolates' copies of a tenant's assignment: a second here, not half a minute.
            TENANT_ASSIGNMENT_CACHE_MS: "1000",
            // End-user JWTs verified against an inline key set (RS256, ES256, EdDSA); tests sign with the private halves.
            JWT_JWKS: jwt.jwks,
            JWT_ISSUER: TEST_JWT.issuer,
            JWT_AUDIENCE: TEST_JWT.audience,
            TEST_JWT_PRIVATE_KEYS: jwt.privateKeys,
            // Sagas may call the stand-in payment service (test/payments-service.ts), and nothing else.
            SAGA_HTTP_ORIGINS: "https://payments.test",
            PAYMENTS_URL: "https://payments.test",
            // Browsers from this origin may call the API (CORS tests); any other origin is refused.
            CORS_ORIGINS: "https://app.example",
            // Tests assert on behaviour, not on log lines; the logger has its own test with a sink.
            LOG_LEVEL: "off",
            // Applied to each test file's isolated D1 by test/setup.ts.
            TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          },
        },
      };
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    // Node-side tests of the tooling (the OpenAPI document, the client generator) run in vitest.node.config.ts.
    exclude: ["test/tooling/**"],
    setupFiles: ["./test/setup.ts"],
    testTimeout: 30_000,
  },
});
