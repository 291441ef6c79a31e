/** The operator secret the tests authenticate with; vitest.config.ts gives it to the Worker (npm run dev makes a random one). */
export const TEST_ADMIN_SECRET = "test-operator-secret-0123456789";
