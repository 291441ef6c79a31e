import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest(async () => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          // Tests assert on behaviour, not on log lines; the logger has its own test with a sink.
          LOG_LEVEL: "off",
          // Applied to each test file's isolated D1 by test/setup.ts.
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
        },
      },
    })),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    // Node-side tests of the tooling (the OpenAPI document, the client generator) run in vitest.node.config.ts.
    exclude: ["test/tooling/**"],
    setupFiles: ["./test/setup.ts"],
    testTimeout: 30_000,
  },
});
