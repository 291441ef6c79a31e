/**
 * The client's typed surface, checked by the compiler (npm run typecheck type-checks this file): a declared
 * collection's documents have the type of its zod schema on the server, carried by the OpenAPI document and the
 * types generated from it; other collections take the type given, or any JSON object; queries, patches and errors
 * are typed. The assertions run as tests too, so the file also proves they hold at run time where they can.
 */
import { describe, expectTypeOf, it } from "vitest";
import type { components } from "../../client/src/generated/openapi";
import {
  type Change,
  type Collection,
  type Collections,
  type Doc,
  type DocumentData,
  type JsonPatchOperation,
  type Operator,
  type Query,
  type TesseraError,
  tessera,
} from "../../client/src/index";

const db = tessera({ url: "http://tessera.test", key: "tsk_x" });

/** The server's zod schema for todos (domain/collections.ts), as the OpenAPI document carries it. */
type Todo = components["schemas"]["TodosDocument"];

describe("typed collections", () => {
  it("knows a declared collection's document type from the server's schema", () => {
    expectTypeOf<Collections>().toHaveProperty("todos");
    expectTypeOf<Collections["todos"]>().toEqualTypeOf<Todo>();
    expectTypeOf(db.collection("todos")).toEqualTypeOf<Collection<Todo>>();
    expectTypeOf<Todo["title"]>().toEqualTypeOf<string>();
    expectTypeOf<Todo["status"]>().toEqualTypeOf<"open" | "doing" | "done" | undefined>();
    expectTypeOf<Todo["priority"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Todo["owner"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Todo["done"]>().toEqualTypeOf<boolean | undefined>();
    // Like the server's z.looseObject: other fields are allowed.
    expectTypeOf<{ title: "x"; extra: 1 }>().toExtend<Todo>();
  });

  it("types what reads and writes take and give", () => {
    const todos = db.collection("todos");
    expectTypeOf(todos.get).returns.resolves.toEqualTypeOf<Doc<Todo> | null>();
    expectTypeOf(todos.put).parameter(1).toEqualTypeOf<Todo>();
    expectTypeOf(todos.create).returns.resolves.toEqualTypeOf<Doc<Todo>>();
    expectTypeOf<Doc<Todo>["data"]>().toEqualTypeOf<Todo>();
    expectTypeOf<Doc<Todo>["version"]>().toEqualTypeOf<number>();
    // @ts-expect-error: a todo needs a title
    void (() => todos.put("t", { status: "open" }));
    // @ts-expect-error: status is one of open, doing, done
    void (() => todos.put("t", { title: "x", status: "later" }));
    // @ts-expect-error: a merge patch of a todo cannot make its priority a string
    void (() => todos.patch("t", { priority: "high" }));
    void (() => todos.patch("t", { priority: null, status: "done" }));
    void (() => todos.patch("t", [{ op: "increment", path: "/priority", value: 1, max: 10 }]));
    // @ts-expect-error: increment's value is a number
    void (() => todos.patch("t", [{ op: "increment", path: "/priority", value: "1" }]));
  });

  it("takes the type given for any other collection, else any JSON object", () => {
    interface Order {
      sku: string;
      quantity: number;
    }
    expectTypeOf(db.collection<Order>("orders")).toEqualTypeOf<Collection<Order>>();
    expectTypeOf(db.collection("orders")).toEqualTypeOf<Collection<DocumentData>>();
    expectTypeOf(db.collection<Order>("orders").get).returns.resolves.toEqualTypeOf<Doc<Order> | null>();
  });
});

describe("typed queries, feed and errors", () => {
  it("takes the API's operators only, and gives typed documents", () => {
    expectTypeOf<Operator>().toEqualTypeOf<"eq" | "ne" | "gt" | "gte" | "lt" | "lte" | "in" | "prefix">();
    const open = db.collection("todos").query().where("status", "eq", "open").orderBy("-priority").limit(20);
    expectTypeOf(open).toEqualTypeOf<Query<Todo>>();
    expectTypeOf(open.page).returns.resolves.toEqualTypeOf<{
      readonly items: Doc<Todo>[];
      readonly next: string | null;
    }>();
    // @ts-expect-error: no such operator
    void (() => db.collection("todos").query().where("priority", "between", 1));
    // @ts-expect-error: in takes a list
    void (() => db.collection("todos").query().where("priority", "in", 1));
    void (() => db.collection("todos").query().where("priority", "in", [1, 2]));
  });

  it("types the change feed, JSON Patch operations and errors", async () => {
    expectTypeOf(db.changes()).toExtend<AsyncIterable<Change>>();
    expectTypeOf<Change["type"]>().toEqualTypeOf<"put" | "patch" | "delete">();
    expectTypeOf<JsonPatchOperation["op"]>().toEqualTypeOf<
      "add" | "replace" | "test" | "remove" | "move" | "copy" | "increment"
    >();
    expectTypeOf<TesseraError["code"]>().toEqualTypeOf<string>();
    expectTypeOf<TesseraError["status"]>().toEqualTypeOf<number>();
    expectTypeOf<TesseraError["pointer"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf(db.transaction)
      .parameter(0)
      .toEqualTypeOf<components["schemas"]["TransactionOperation"][]>();
    expectTypeOf(db.sagas.get).returns.resolves.toEqualTypeOf<components["schemas"]["Saga"] | null>();
  });
});
