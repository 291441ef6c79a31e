/**
 * Tests that run in plain Node, not in workerd: tooling around the Worker (the OpenAPI document, its linter, the
 * client a generator makes from it). `npm test` runs them after the Workers suite; vitest.config.ts leaves
 * test/tooling to this config.
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/tooling/**/*.test.ts"],
    // Generating the client types and type-checking them with the compiler takes a few seconds.
    testTimeout: 60_000,
  },
});
