/** Small builders for the OpenAPI route declarations the route files share. */
import { Envelope, Problem } from "../schemas";

export const JSON_TYPE = "application/json";

export const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: "Problem Details (RFC 9457)",
        content: { "application/problem+json": { schema: Problem } },
      },
    ]),
  );

export const envelope = (description: string) => ({
  description,
  content: { [JSON_TYPE]: { schema: Envelope } },
});
