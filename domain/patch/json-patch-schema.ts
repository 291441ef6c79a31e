/**
 * The shape of a JSON Patch document (RFC 6902 plus Tessera's `increment`), declared once: parseJsonPatch
 * validates with it and the OpenAPI document publishes it, so the two cannot drift apart.
 */
import { z } from "zod";

export const MAX_PATCH_OPERATIONS = 1000;

/** RFC 6901: empty, or `/`-separated tokens in which `~` is only ever followed by 0 or 1. */
const POINTER = /^(\/([^~/]|~[01])*)*$/;

const pointer = z
  .string()
  .regex(
    POINTER,
    "must be a JSON Pointer (RFC 6901): empty, or starting with / with ~ escaped as ~0 and / as ~1",
  );

/**
 * Any JSON value, and the member must be present (`null` counts). The body came from JSON.parse, so it is JSON
 * already: walking a large value again (as z.json() would) costs tens of milliseconds for nothing.
 */
const value = z.unknown().refine((v) => v !== undefined, "is required");

export const JsonPatchOperation = z.discriminatedUnion("op", [
  z.object({ op: z.enum(["add", "replace", "test"]), path: pointer, value }),
  z.object({ op: z.literal("remove"), path: pointer }),
  z.object({ op: z.enum(["move", "copy"]), from: pointer, path: pointer }),
  z
    .object({
      op: z.literal("increment"),
      path: pointer,
      value: z.number(),
      min: z.number().optional(),
      max: z.number().optional(),
    })
    .refine((o) => o.min === undefined || o.max === undefined || o.min <= o.max, {
      message: '"min" is greater than "max"',
    })
    .describe("Tessera's extension: atomic add, failing (409) when the result leaves [min, max]"),
]);

export const JsonPatchDocument = z.array(JsonPatchOperation).max(MAX_PATCH_OPERATIONS);
