import { defineConfig } from "drizzle-kit";

// `npx drizzle-kit generate` writes D1 migrations into migrations/, where wrangler applies them from.
export default defineConfig({
  dialect: "sqlite",
  schema: "./workers/read-model/schema.ts",
  out: "./migrations",
});
