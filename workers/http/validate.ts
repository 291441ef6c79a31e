/** Validating request parts with the shared zod schemas; a failure is a 400 problem naming the parameter. */
import type { z } from "@hono/zod-openapi";
import { badRequest } from "./problem";

export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
  code = "invalid-query",
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.join(".") ?? "";
  throw badRequest(code, `${where}${path === "" ? "" : ` "${path}"`}: ${issue?.message ?? "invalid"}`, {
    parameter: path,
  });
}
