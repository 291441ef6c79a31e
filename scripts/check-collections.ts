/**
 * `npm run check` (and the dev server's start) run this: loads this deployment's collection declaration, which
 * checks itself as it loads (domain/collections.ts), and says what it found, or what is wrong and where.
 */
try {
  const { COLLECTIONS, indexedFields } = await import("../domain/collections");
  const names = Object.keys(COLLECTIONS);
  const summary = names.map((name) => `${name} (${indexedFields(name).length} indexed)`).join(", ");
  console.log(`collections: ${summary || "none declared"}: ok`);
} catch (error) {
  console.error(`domain/collections.ts: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
