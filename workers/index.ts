/** The Worker's entry: HTTP, and the Durable Object classes wrangler.toml names. */
import { createApp } from "./app";

export { DocumentObject } from "../durable-objects/DocumentObject";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
