/**
 * fast-check arbitraries of hostile HTTP requests against the Worker's routes (not a test file itself), for
 * test/routes/hostile.test.ts. A request is a small, printable recipe: large parts (10 KB segments, 60 KB
 * headers, 1 MiB bodies, 10,000 levels of nesting) are `Text` descriptors expanded only when sent, so that a
 * failing case reads well in fast-check's report.
 *
 * Every recipe says whether it must be refused. One that must carries a defect that refuses it on the route it
 * addresses, whatever else it holds (a bad credential, a path the route cannot name, a method the path does not
 * take, a header, body or query the route rejects), and otherwise a body and headers that would succeed; so a
 * refusal is owed to the defect alone. The recipes that may succeed act in the tenant `scratch` (or only read),
 * which the suite's record of unchanged state does not cover.
 */
import fc from "fast-check";

/** A string, or a long one described: `before + repeat × times + after`. */
export type Text =
  | string
  | { readonly repeat: string; readonly times: number; readonly before?: string; readonly after?: string };

export function expand(text: Text): string {
  if (typeof text === "string") return text;
  return `${text.before ?? ""}${text.repeat.repeat(text.times)}${text.after ?? ""}`;
}

const long = (repeat: string, times: number, before = "", after = ""): Text => ({
  repeat,
  times,
  before,
  after,
});

export type Body =
  /** `declaredLength`: a Content-Length header sent as given, whatever the body's length. */
  | { readonly kind: "text"; readonly text: Text; readonly declaredLength?: string }
  | { readonly kind: "bytes"; readonly bytes: readonly number[] }
  /** Sent as a stream, so without Content-Length. */
  | { readonly kind: "stream"; readonly text: Text };

/** Credentials refused on every secured route: 401 (or 403 for a valid token that grants no scope). */
export const REFUSED_CREDENTIALS = [
  "none",
  "empty",
  "blank",
  "scheme-only",
  "basic",
  "token-scheme",
  "tab-separated",
  "duplicated",
  "duplicated-with-garbage",
  "wrong-secret",
  "unknown-key",
  "truncated-key",
  "padded-key",
  "key-with-suffix",
  "revoked-key",
  "over-8k",
  "60k",
  "sql-shaped",
  "operator-near-miss",
  "operator-with-suffix",
  "jwt-alg-none",
  "jwt-expired",
  "jwt-foreign-key",
  "jwt-wrong-issuer",
  "jwt-wrong-audience",
  "jwt-bad-tenant",
  "jwt-sql-tenant",
  "jwt-no-tenant",
  "jwt-no-exp",
  "jwt-not-yet-valid",
  "jwt-hs256",
  "jwt-kid-traversal",
  "jwt-no-scopes",
  "jwt-garbage",
] as const;
export type RefusedCredential = (typeof REFUSED_CREDENTIALS)[number];

/**
 * `default`: tenant default, every scope. `scratch`: tenant scratch, every scope (the only credential whose
 * writes may succeed). `operator`: the operator secret. `read-only`: tenant default, read. `elsewhere-only`:
 * tenant default, every scope, only the collection `elsewhere`.
 */
export type Credential =
  | "default"
  | "scratch"
  | "operator"
  | "read-only"
  | "elsewhere-only"
  | RefusedCredential;

export const SCENARIOS = [
  "refused-credential",
  "wrong-scope",
  "bad-path",
  "bad-method",
  "bad-header",
  "bad-body",
  "bad-query",
  "bad-revocation",
  "scratch-anything",
  "default-read",
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface HostileRequest {
  readonly scenario: Scenario;
  /** What the recipe is: for one that must be refused, the defect that refuses it. */
  readonly label: string;
  readonly credential: Credential;
  readonly method: string;
  /** Path segments after the leading "/", as sent (already percent-encoded where meant to be). */
  readonly segments: readonly Text[];
  /** `name=value` pairs, as sent. */
  readonly query: readonly Text[];
  /** Appended in order: a name may repeat. */
  readonly headers: ReadonlyArray<readonly [string, Text]>;
  readonly body: Body | null;
  /** True when the request must not succeed: a 4xx, or for OPTIONS a 204 that does nothing. */
  readonly mustRefuse: boolean;
}

export interface DocumentRef {
  readonly collection: string;
  readonly id: string;
}

/** What the arbitraries need to know of the suite's state. */
export interface World {
  /** Documents of the tenant `default` that exist (some as tombstones): refused requests aim at them. */
  readonly seeds: readonly DocumentRef[];
  /** Documents of the tenant `default` that do not exist and must not come to. */
  readonly absent: readonly DocumentRef[];
  /** Secured routes as /openapi.json lists them, `{collection}`-style paths, upper-case methods. */
  readonly routes: ReadonlyArray<{ readonly method: string; readonly path: string }>;
  /** Live key ids of each tenant: a tenant's admin cannot revoke another tenant's. */
  readonly keyIds: { readonly default: readonly string[]; readonly scratch: readonly string[] };
}

const STANDARD_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
/** Method tokens outside the route table (the runtime refuses to build a request with some others, e.g. FOO). */
const ODD_METHODS = ["PROPFIND", "MKCOL", "COPY", "MOVE", "LOCK", "TRACE", "QUERY", "PURGE", "SEARCH", "ACL"];
/** Lower- and mixed-case spellings: the runtime upper-cases them, so they name the standard methods. */
const CASED_METHODS = ["get", "put", "patch", "Patch", "delete", "post", "head"];
/** Methods that carry no body (the runtime refuses one on GET and HEAD). */
const BODILESS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

export const canonicalMethod = (method: string) => method.toUpperCase();

const JSON_TYPE = "application/json";
const MERGE_TYPE = "application/merge-patch+json";
const PATCH_TYPE = "application/json-patch+json";

const text = (value: Text): Body => ({ kind: "text", text: value });
const json = (value: string) => text(value);

/** Bodies that would be accepted on any seed: the defect elsewhere in the request must refuse them. */
const GOOD_PUT = json('{"title":"hijack","hijacked":true}');
const GOOD_MERGE = json('{"hijacked":true}');
/** A key request the tenant `default`'s admin could make: only a bad credential refuses it. */
const GOOD_KEY_REQUEST = json('{"tenant":"default","scopes":["read","write","admin"],"name":"hijack"}');

/** The body (and its media type) that a method would succeed with; other methods get a document too. */
function goodWrite(method: string): { body: Body | null; contentType: string | null } {
  const m = canonicalMethod(method);
  if (BODILESS.has(m) || m === "DELETE") return { body: null, contentType: null };
  if (m === "PATCH") return { body: GOOD_MERGE, contentType: MERGE_TYPE };
  return { body: GOOD_PUT, contentType: JSON_TYPE };
}

// --- path segments ---------------------------------------------------------------------------------------

/** Collection segments the route guard must refuse: reserved, upper-case, too long, encoded, injected. */
export const INVALID_COLLECTIONS: readonly Text[] = [
  "Seeds",
  "_x",
  "_system",
  "_history",
  "_changes",
  "__proto__",
  "1seeds",
  "-seeds",
  long("a", 64),
  long("a", 10_240),
  "seeds%2Fx",
  "seeds%252Fx",
  "%73eeds",
  "se%00eds",
  "s%C0%AFeeds",
  "%FF",
  "seeds'--",
  "seeds%27%20OR%20%271%27%3D%271",
  "seeds;DROP%20TABLE%20documents",
  "s%C3%A9eds",
  "se\u0001eds",
  "%E2%80%AEseeds",
];

/** Id segments the route guard must refuse: invalid UTF-8, NUL and other controls, slashes, too long. */
export const INVALID_IDS: readonly Text[] = [
  "%00",
  "a%00b",
  "a%0D%0ASet-Cookie:%20x=1",
  "%0A",
  "%C0%AF",
  "%C0%AE%C0%AE",
  "%FF",
  "%FE%FF",
  "%E0%A4%A",
  "%ED%A0%80",
  "%",
  "%G0",
  "a%2Fb",
  "%2F",
  "%2f%2e%2e%2f",
  "..%2F..%2Fseeds",
  "%7F",
  "%C2%85",
  "x\u0001y",
  long("x", 10_240),
  long("%F0%9F%98%80", 129),
  long("a", 513),
];

/** Valid ids that are hard to handle: encodings, injection-shaped, unicode, the longest allowed. */
export const ODD_VALID_IDS: readonly Text[] = [
  "%252F",
  "%2525",
  "%252e%252e",
  "x'%20OR%20'1'%3D'1",
  "%22%3B%20DROP%20TABLE%20documents%3B%20--",
  "..%2f",
  "~",
  "%E2%80%AE",
  "%EF%BB%BF",
  "%F0%9F%92%A5",
  "__proto__",
  "constructor",
  "prototype",
  "%3Cscript%3E",
  "a%20b",
  long("a", 512),
  long("%C3%A9", 256),
];

/** Segments a URL parser resolves or folds: dot segments (plain and encoded), empty segments, a backslash. */
const TRAVERSAL: readonly Text[] = ["..", "%2e%2e", ".%2E", ".", "%2e", "", "a\\b"];

/** Collections a tenant `scratch` request may name: valid (including `constructor`, an Object.prototype name) or not. */
const SCRATCH_COLLECTIONS: readonly Text[] = [
  "todos",
  "things",
  "constructor",
  "a",
  long("a", 63),
  "elsewhere",
];

// --- header values -----------------------------------------------------------------------------------------

/** If-Match / If-None-Match values that are not `*` or a list of entity tags. */
const BAD_TAGS: readonly Text[] = [
  "",
  "1",
  '"unterminated',
  "W/1",
  '"a" "b"',
  '*, "1"',
  ",",
  "' OR 1=1 --",
  '"\u0001"',
  long("x", 60_000),
  long('"1",', 20_000, "", "x"),
];
/** Valid syntax that fails on every seed and every absent document of a write. */
const FAILING_IF_MATCH: readonly Text[] = ['"999"', 'W/"1"', '"0"', '"1e3"'];
const BAD_IDEMPOTENCY_KEYS: readonly Text[] = [
  "",
  "   ",
  '""',
  "\u0001abc",
  "a\u007fb",
  long("k", 256),
  long("k", 60_000),
];
const BAD_CONSISTENCY: readonly Text[] = [
  "linearizable",
  "strong, eventual",
  "0",
  "' OR 1=1 --",
  "eventually",
  long("s", 60_000),
];
const BAD_TOKENS: readonly Text[] = [
  "",
  "garbage",
  "t2~",
  "t1~~",
  "t2~~~zz",
  "t2~~~abc.-1",
  "t2~~' OR 1=1",
  "t2~xyz~",
  "t2~~~a.99999999999999999",
  long("~a.1", 33, "t2~~"),
  long("x", 5_000, "t2~~"),
];
/** Well-formed tokens that name nothing this service issued: answered from a fallback, never refused. */
const ODD_TOKENS: readonly Text[] = ["t2~~", "t2~~bogus-bookmark", "t2~~~abc.1", "t2~~00000000-ffffffff"];
const BAD_CONTENT_TYPES: readonly Text[] = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=latin1",
  "application/json; charset=utf-16",
  "application/jsonx",
  "application/json+evil",
  "*/*",
  "application/*",
  "",
  long("a", 60_000),
];

// --- bodies --------------------------------------------------------------------------------------------------

const MIB = 1024 * 1024;
const deepObject = (levels: number) => long('{"a":', levels, "", `1${"}".repeat(levels)}`);
const deepArray = (levels: number) => long("[", levels, '{"a":', `${"]".repeat(levels)}}`);

/** Bodies every write route refuses, for its own media type. */
const BAD_JSON_BODIES: readonly Body[] = [
  json("{"),
  json("{'a':1}"),
  json('{"a":NaN}'),
  json('{"a":1} x'),
  json('{"a":1,}'),
  json('{"a":undefined}'),
  json(""),
  json("nul"),
  text(deepObject(10_000)),
  text(deepArray(10_000)),
  json('{"x":1e400}'),
  json('{"x":-1e400,"__proto__":{"polluted":true}}'),
  text(long("x", MIB + 1, '{"big":"', '"}')),
  { kind: "stream", text: long("x", MIB + 1, '{"big":"', '"}') },
  { kind: "text", text: long("x", 2 * MIB, '{"big":"', '"}'), declaredLength: "10" },
  { kind: "text", text: long("x", 2 * MIB, '{"big":"', '"}'), declaredLength: "-1" },
  { kind: "text", text: long("x", 2 * MIB, '{"big":"', '"}'), declaredLength: "abc" },
  { kind: "text", text: '{"a":1}', declaredLength: "99999999999999999999" },
  { kind: "text", text: '{"a":1}', declaredLength: "1e9" },
  { kind: "bytes", bytes: [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d] },
  { kind: "bytes", bytes: [0xc0, 0xaf] },
  { kind: "bytes", bytes: [0x00, 0x01, 0x02, 0x03] },
];
/** Well-formed JSON that is not a document (PUT and POST store objects only). */
const NOT_OBJECTS: readonly Body[] = [
  json("[]"),
  json("[1,2]"),
  json("1"),
  json('"s"'),
  json("null"),
  json("true"),
];
/** Objects the collection `todos` refuses by its schema and index types. */
const BAD_TODOS: readonly Body[] = [
  json("{}"),
  json('{"title":""}'),
  json('{"title":5}'),
  json('{"title":"t","priority":11}'),
  json('{"title":"t","priority":1.5}'),
  json('{"title":"t","status":"\' OR 1=1 --"}'),
  json('{"title":"t","done":"yes"}'),
  json(`{"title":"t","owner":"${"o".repeat(513)}"}`),
];
/** Merge patches that fail on any document: not an object after merging. */
const BAD_MERGES: readonly Body[] = [json("[1]"), json("1"), json('"s"'), json("null")];
/** JSON Patches that fail on every seed, atomically: a test on a member no seed has, after changes. */
const BAD_JSON_PATCHES: readonly Body[] = [
  json("{}"),
  json("[{}]"),
  json('[{"op":"nope","path":"/a"}]'),
  json('[{"op":"add"}]'),
  json('[{"op":"add","path":"a","value":1}]'),
  json('[{"op":"test","path":"/never-present","value":1}]'),
  json('[{"op":"add","path":"/x","value":1},{"op":"test","path":"/x","value":2}]'),
  json(
    '[{"op":"add","path":"/__proto__/polluted","value":1},{"op":"test","path":"/never-present","value":1}]',
  ),
  json(
    '[{"op":"add","path":"/constructor","value":{"prototype":{"polluted":1}}},{"op":"test","path":"/never-present","value":1}]',
  ),
  json('[{"op":"remove","path":"/never-present"}]'),
  json('[{"op":"move","from":"/never-present","path":"/x"}]'),
  json('[{"op":"increment","path":"/never-present/n","value":1}]'),
  json('[{"op":"add","path":"/x","value":1e400}]'),
  text(
    long(
      '{"op":"add","path":"/x","value":1},',
      25_000,
      "[",
      '{"op":"test","path":"/never-present","value":1}]',
    ),
  ),
];
/** Key requests every tenant admin is refused (400, 403, 413 or 415 before anything is stored). */
const BAD_KEY_BODIES: readonly Body[] = [
  json("{"),
  json("{}"),
  json("[]"),
  json('{"tenant":"default","scopes":["root"],"name":"x"}'),
  json('{"tenant":"default","scopes":["read","read"],"name":"x"}'),
  json('{"tenant":"default","scopes":[],"name":"x"}'),
  json('{"tenant":"default","scopes":["read"],"name":"   "}'),
  json('{"tenant":"default","scopes":["read"],"name":"x","__proto__":{"scopes":["admin"]}}'),
  json('{"tenant":"default","scopes":["read"],"name":"x","constructor":{"prototype":{"admin":true}}}'),
  json('{"tenant":"default","scopes":["read"],"name":"x","rateLimit":"none"}'),
  json('{"tenant":"default","scopes":["read"],"name":"x","rateLimit":"unlimited"}'),
  json('{"tenant":"other","scopes":["read"],"name":"x"}'),
  json('{"tenant":"_system","scopes":["read"],"name":"x"}'),
  json('{"tenant":"default\' OR \'1\'=\'1","scopes":["read"],"name":"x"}'),
  json('{"tenant":"default","scopes":["read"],"name":"x","collections":["_x"]}'),
  json('{"tenant":"default","scopes":["read"],"name":"x","collections":[]}'),
  text(long("x", 17_000, '{"tenant":"default","scopes":["read"],"name":"', '"}')),
  text(deepObject(10_000)),
];

// --- queries -------------------------------------------------------------------------------------------------

const BAD_COLLECTION_QUERIES: readonly (readonly Text[])[] = [
  ["where[secret]=1"],
  ["where[secret][gt]=1"],
  ["where[title][prefix]=a"],
  ["where[status][like]=x"],
  ["where[__proto__]=1"],
  ["where[constructor][prototype]=1"],
  ["where[priority]=1%20OR%201%3D1"],
  ["where[priority]=%27%20OR%201%3D1%20--"],
  ["where[priority]=Infinity"],
  ["where[priority]=%20"],
  ["where[done]=maybe"],
  ["where[priority][prefix]=1"],
  ["where[]=1"],
  ["where[status=open"],
  ["=x"],
  ["foo=bar"],
  ["order=secret"],
  ["order=-__proto__"],
  ["order=status%3B%20DROP%20TABLE%20documents"],
  ["limit=0"],
  ["limit=201"],
  ["limit=-1"],
  ["limit=1.5"],
  ["limit=1e400"],
  ["limit=abc"],
  ["limit=99999999999999999999"],
  ["limit="],
  ["cursor=%27%20OR%201%3D1%20--"],
  ["cursor=eyJzIjoiIn0"],
  ["cursor=%22%3B%20DROP%20TABLE%20documents%3B%20--"],
  ["consistency=strong"],
  ["consistency=bogus"],
  [long("a,", 60, "where[status][in]=", "a")],
  [long("&where[status]=open", 9, "limit=5")],
  [long("&p=1", 999, "p=1")],
  [{ repeat: "&x=1", times: 1000, before: "where[status]=open" }],
];
const BAD_FEED_QUERIES: readonly (readonly Text[])[] = [
  ["after=%27%20OR%201%3D1%20--"],
  ["after=s"],
  ["after=S1"],
  ["after=-1"],
  [long("z", 12, "after=s")],
  ["after=s0%20OR%201%3D1"],
  ["limit=0"],
  ["limit=1001"],
  ["limit=-1"],
  ["limit=1.5"],
  ["limit=1e3"],
  ["limit="],
  ["limit=abc"],
  ["wait=31"],
  ["wait=-1"],
  ["wait=1.5"],
  ["wait=99999"],
  ["collection=_x"],
  ["collection=Seeds"],
  ["collection=seeds%27%20OR%20%271%27%3D%271"],
  ["collection=%00"],
  [long("a", 64, "collection=")],
];
const BAD_HISTORY_QUERIES: readonly (readonly Text[])[] = [
  ["after=-1"],
  ["after=1.5"],
  ["after=abc"],
  ["after=1e3"],
  ["limit=0"],
  ["limit=1001"],
  ["limit=abc"],
  ["after=1%20OR%201%3D1"],
];
const BAD_READ_QUERIES: readonly (readonly Text[])[] = [
  ["version=-1"],
  ["version=1.5"],
  ["version=abc"],
  ["version=1e3"],
  ["version=99999999999999999999"],
  ["version=%00"],
  ["version=1%20OR%201%3D1"],
  ["consistency=bogus"],
];
const BAD_ADMIN_QUERIES: Readonly<Record<string, readonly (readonly Text[])[]>> = {
  _stats: [["tenant=_x"], ["tenant=Default"], ["tenant=default%27%20OR%20%271%27%3D%271"], ["tenant="]],
  "_admin/keys": [["limit=0"], ["limit=501"], ["limit=abc"], ["tenant=_x"], ["tenant=other"]],
  "_admin/audit": [["after=abc"], ["after=-1"], ["limit=0"], ["limit=1001"], ["tenant=other"], ["tenant=_x"]],
  "_admin/dead-letters": [["limit=0"], ["limit=abc"], ["tenant=_x"], ["after=x&limit=1001"]],
};
/** Parameters that are harmless on reads (the routes ignore or accept them). */
const HARMLESS_QUERIES: readonly (readonly Text[])[] = [
  [],
  ["limit=1&limit=999"],
  ["x=%00"],
  ["__proto__=1"],
  ["where[status]=%27%20OR%20%271%27%3D%271"],
  ["where[owner][prefix]=%25"],
  ["where[owner][prefix]=%F4%8F%BF%BF"],
  ["where[priority][in]=1,2,3"],
  ["order=-priority"],
  ["limit=0x10"],
  ["wait=0"],
  [long("&y=1", 1000, "y=1")],
];

// --- noise ---------------------------------------------------------------------------------------------------

/** Headers that refuse nothing on their own; added to any request, they never turn a refusal into a success. */
const noiseHeader: fc.Arbitrary<readonly [string, Text]> = fc.constantFrom<readonly [string, Text]>(
  ["x-pad", long("p", 60_000)],
  ["x-request-id", long("r", 300)],
  ["x-request-id", "<script>alert(1)</script>"],
  ["x-request-id", "' OR 1=1 --"],
  ["origin", "https://evil.example"],
  ["origin", "https://app.example"],
  ["origin", "null"],
  ["x-http-method-override", "DELETE"],
  ["x-forwarded-host", "evil.example"],
  ["accept", long("a/b;", 10_000)],
  ["cookie", "session=' OR 1=1 --"],
  ["expect", "100-continue"],
  ["range", "bytes=0-1"],
  ["consistency-token", "t2~~bogus-bookmark"],
  ["x-control", "a\u0001b\u007f"],
);
const noise = fc.array(noiseHeader, { maxLength: 3 });

// --- the route shapes ----------------------------------------------------------------------------------------

/** A document path, its collection and id as sent (the id percent-encoded). */
const docSegments = (ref: DocumentRef): Text[] => ["v1", ref.collection, encodeURIComponent(ref.id)];

function pick<T>(values: readonly T[]): fc.Arbitrary<T> {
  return fc.constantFrom(...values);
}

interface Shape {
  readonly name: string;
  readonly segments: readonly Text[];
  readonly methods: readonly string[];
}

/** The default tenant's routes, aimed at its seeds and absent documents, as the route table knows them. */
function defaultShapes(world: World): fc.Arbitrary<Shape> {
  const target = pick([...world.seeds, ...world.absent]);
  const collection = pick([...new Set([...world.seeds, ...world.absent].map((r) => r.collection)), "todos"]);
  return fc.oneof(
    target.map((ref) => ({
      name: "document",
      segments: docSegments(ref),
      methods: ["GET", "HEAD", "PUT", "PATCH", "DELETE"],
    })),
    target.map((ref) => ({
      name: "history",
      segments: [...docSegments(ref), "_history"],
      methods: ["GET", "HEAD"],
    })),
    collection.map((c) => ({ name: "collection", segments: ["v1", c], methods: ["GET", "HEAD", "POST"] })),
    fc.constant({ name: "feed", segments: ["v1", "_changes"], methods: ["GET", "HEAD"] }),
    fc.constant({ name: "stats", segments: ["v1", "_stats"], methods: ["GET", "HEAD"] }),
    fc.constant({ name: "keys", segments: ["v1", "_admin", "keys"], methods: ["GET", "HEAD", "POST"] }),
    pick(world.keyIds.default).map((id) => ({
      name: "key",
      segments: ["v1", "_admin", "keys", id],
      methods: ["DELETE"],
    })),
    fc.constant({ name: "audit", segments: ["v1", "_admin", "audit"], methods: ["GET", "HEAD"] }),
    fc.constant({
      name: "dead-letters",
      segments: ["v1", "_admin", "dead-letters"],
      methods: ["GET", "HEAD"],
    }),
    fc.constant({
      name: "redrive",
      segments: ["v1", "_admin", "dead-letters", "redrive"],
      methods: ["POST"],
    }),
  );
}

/** Any secured route of /openapi.json, placeholders filled with seeds, absent documents and live key ids. */
function openApiTargets(world: World): fc.Arbitrary<{ method: string; segments: Text[] }> {
  const keyIds = [...world.keyIds.default, ...world.keyIds.scratch];
  return fc
    .tuple(pick(world.routes), pick([...world.seeds, ...world.absent]), pick(keyIds))
    .map(([route, ref, keyId]) => {
      const segments = route.path
        .split("/")
        .slice(1)
        .map((segment) => {
          if (segment === "{collection}") return ref.collection;
          if (segment !== "{id}") return segment;
          return route.path.startsWith("/v1/_admin/keys/") ? keyId : encodeURIComponent(ref.id);
        });
      return { method: route.method, segments };
    });
}

/** The path a URL parser makes of the segments: dot segments resolved, backslashes made slashes. */
export function normalizedPath(segments: readonly Text[]): string {
  return new URL(`http://tessera.test/${segments.map(expand).join("/")}`).pathname;
}

const withNoise = (arb: fc.Arbitrary<HostileRequest>): fc.Arbitrary<HostileRequest> =>
  fc.tuple(arb, noise).map(([request, extra]) => ({ ...request, headers: [...request.headers, ...extra] }));

/** Inserts dot segments, empty segments or a backslash somewhere in a path. */
function traversed(segments: readonly Text[]): fc.Arbitrary<Text[]> {
  return fc
    .tuple(fc.nat({ max: segments.length }), fc.array(pick(TRAVERSAL), { minLength: 1, maxLength: 3 }))
    .map(([at, inserted]) => [...segments.slice(0, at), ...inserted, ...segments.slice(at)]);
}

/** The request a valid default credential could make on a shape: used with exactly one defect added. */
function goodRequest(
  shape: Shape,
  method: string,
): Omit<HostileRequest, "scenario" | "label" | "mustRefuse"> {
  const { body, contentType } =
    shape.name === "keys" && canonicalMethod(method) === "POST"
      ? { body: GOOD_KEY_REQUEST, contentType: JSON_TYPE }
      : BODILESS.has(canonicalMethod(method))
        ? { body: null, contentType: null }
        : goodWrite(method);
  return {
    credential: "default",
    method,
    segments: shape.segments,
    query: [],
    headers: contentType === null ? [] : [["content-type", contentType]],
    body,
  };
}

// --- the scenarios -------------------------------------------------------------------------------------------

/** Any secured route, any method, a body that would succeed, and a credential refused everywhere. */
function refusedCredential(world: World): fc.Arbitrary<HostileRequest> {
  const target = fc.oneof(
    openApiTargets(world),
    defaultShapes(world).chain((shape) =>
      pick(shape.methods).map((method) => ({ method, segments: [...shape.segments] })),
    ),
  );
  return fc
    .tuple(
      target,
      pick(REFUSED_CREDENTIALS),
      fc.oneof(
        { arbitrary: fc.constant(null), weight: 4 },
        { arbitrary: pick([...ODD_METHODS, ...CASED_METHODS]), weight: 1 },
      ),
      fc.boolean(),
    )
    .chain(([t, credential, otherMethod, traverse]) => {
      const method = otherMethod ?? t.method;
      const isKeyCreation = canonicalMethod(method) === "POST" && t.segments.join("/") === "v1/_admin/keys";
      const { body, contentType } = BODILESS.has(canonicalMethod(method))
        ? { body: null, contentType: null }
        : isKeyCreation
          ? { body: GOOD_KEY_REQUEST, contentType: JSON_TYPE }
          : goodWrite(method);
      return (traverse ? traversed(t.segments) : fc.constant(t.segments)).map(
        (segments): HostileRequest => ({
          scenario: "refused-credential",
          label: `refused credential ${credential}`,
          credential,
          method,
          segments,
          query: [],
          headers: contentType === null ? [] : [["content-type", contentType]],
          body,
          mustRefuse: true,
        }),
      );
    });
}

/** A valid credential without the right: the operator on tenant data, a read-only key on writes, a key of another collection. */
function wrongScope(world: World): fc.Arbitrary<HostileRequest> {
  return defaultShapes(world)
    .chain((shape) =>
      pick(shape.methods).chain((method) => {
        const m = canonicalMethod(method);
        const tenantData = ["document", "history", "collection", "feed"].includes(shape.name);
        const admin = !tenantData;
        const write = (tenantData && ["PUT", "PATCH", "DELETE", "POST"].includes(m)) || admin;
        const collectionScoped = ["document", "history", "collection"].includes(shape.name);
        const credentials: Credential[] = [
          ...(tenantData ? (["operator"] as const) : []),
          ...(write ? (["read-only"] as const) : []),
          ...(collectionScoped ? (["elsewhere-only"] as const) : []),
        ];
        if (credentials.length === 0) return fc.constant(null);
        return pick(credentials).map(
          (credential): HostileRequest => ({
            ...goodRequest(shape, method),
            credential,
            scenario: "wrong-scope",
            label: `${credential} on ${shape.name}`,
            mustRefuse: true,
          }),
        );
      }),
    )
    .filter((r): r is HostileRequest => r !== null);
}

/** A path whose collection or id segment the route guard refuses, on every method the shape takes. */
function badPath(world: World): fc.Arbitrary<HostileRequest> {
  const seed = pick([...world.seeds, ...world.absent]);
  const badCollection = fc
    .tuple(pick(INVALID_COLLECTIONS), seed, fc.constantFrom("document", "history", "collection"))
    .filter(([collection, , shape]) => !(shape === "collection" && collection === "_changes"))
    .map(([collection, ref, shape]): Shape => {
      if (shape === "collection")
        return { name: shape, segments: ["v1", collection], methods: ["GET", "HEAD", "POST"] };
      const segments: Text[] = ["v1", collection, encodeURIComponent(ref.id)];
      return shape === "document"
        ? { name: shape, segments, methods: ["GET", "HEAD", "PUT", "PATCH", "DELETE"] }
        : { name: shape, segments: [...segments, "_history"], methods: ["GET", "HEAD"] };
    });
  const badId = fc.tuple(pick(INVALID_IDS), seed, fc.boolean()).map(
    ([id, ref, history]): Shape =>
      history
        ? { name: "history", segments: ["v1", ref.collection, id, "_history"], methods: ["GET", "HEAD"] }
        : {
            name: "document",
            segments: ["v1", ref.collection, id],
            methods: ["GET", "HEAD", "PUT", "PATCH", "DELETE"],
          },
  );
  return fc.oneof(badCollection, badId).chain((shape) =>
    pick(shape.methods).map(
      (method): HostileRequest => ({
        ...goodRequest(shape, method),
        scenario: "bad-path",
        label: `bad path on ${shape.name}`,
        mustRefuse: true,
      }),
    ),
  );
}

/** A method the path does not take: unknown tokens, and standard ones the route table does not list there. */
function badMethod(world: World): fc.Arbitrary<HostileRequest> {
  return defaultShapes(world).chain((shape) => {
    const allowed = new Set([...shape.methods, "OPTIONS"]);
    const others = [...STANDARD_METHODS, ...ODD_METHODS, ...CASED_METHODS].filter(
      (m) => !allowed.has(canonicalMethod(m)),
    );
    return pick(others).map(
      (method): HostileRequest => ({
        ...goodRequest(shape, method),
        scenario: "bad-method",
        label: `${method} not allowed on ${shape.name}`,
        mustRefuse: true,
      }),
    );
  });
}

/** A header the route rejects (or a precondition that fails), with a body that would otherwise succeed. */
function badHeader(world: World): fc.Arbitrary<HostileRequest> {
  const seedOrAbsent = pick([...world.seeds, ...world.absent]);
  const document = seedOrAbsent.map(
    (ref): Shape => ({ name: "document", segments: docSegments(ref), methods: [] }),
  );
  const collection = seedOrAbsent.map(
    (ref): Shape => ({ name: "collection", segments: ["v1", ref.collection], methods: [] }),
  );

  const reads = fc.tuple(document, pick(["GET", "HEAD"])).chain(([shape, method]) =>
    fc
      .oneof(
        pick(BAD_TAGS).map((v) => [["if-match", v]] as const),
        pick(BAD_TAGS).map((v) => [["if-none-match", v]] as const),
        pick(BAD_CONSISTENCY).map((v) => [["consistency", v]] as const),
        fc.constant([
          ["consistency", "strong"],
          ["consistency", "strong"],
        ] as const),
        pick(BAD_TOKENS).map((v) => [["consistency-token", v]] as const),
      )
      .map((headers) => ({ shape, method, headers })),
  );
  const queries = fc.tuple(collection, pick(["GET", "HEAD"])).chain(([shape, method]) =>
    fc
      .oneof(
        pick([...BAD_CONSISTENCY, "strong", "STRONG "]).map((v) => [["consistency", v]] as const),
        pick(BAD_TOKENS).map((v) => [["consistency-token", v]] as const),
      )
      .map((headers) => ({ shape, method, headers })),
  );
  const writeTarget = fc.oneof(
    fc.tuple(document, pick(["PUT", "PATCH", "DELETE"])),
    fc.tuple(collection, fc.constant("POST")),
  );
  const writes = writeTarget.chain(([shape, method]) => {
    const m = canonicalMethod(method);
    const hasBody = m !== "DELETE";
    return fc
      .oneof(
        pick(BAD_TAGS).map((v) => [["if-match", v]] as const),
        pick(BAD_TAGS).map((v) => [["if-none-match", v]] as const),
        pick(BAD_IDEMPOTENCY_KEYS).map((v) => [["idempotency-key", v]] as const),
        pick(BAD_TOKENS).map((v) => [["consistency-token", v]] as const),
        // Syntactically valid preconditions that no seed or absent document meets.
        ...(m === "POST"
          ? [pick(["*", '"1"']).map((v) => [["if-match", v]] as const)]
          : [pick(FAILING_IF_MATCH).map((v) => [["if-match", v]] as const)]),
        ...(hasBody
          ? [
              pick(BAD_CONTENT_TYPES).map((v) => [["content-type", v]] as const),
              fc.constant([
                ["content-type", JSON_TYPE],
                ["content-type", JSON_TYPE],
              ] as const),
              fc.constant([["content-type", m === "PATCH" ? JSON_TYPE : MERGE_TYPE]] as const),
              fc.constant([["content-type", m === "PATCH" ? JSON_TYPE : PATCH_TYPE]] as const),
            ]
          : []),
      )
      .map((headers) => ({ shape, method, headers }));
  });
  return fc.oneof(reads, queries, writes).map(({ shape, method, headers }): HostileRequest => {
    const good = goodRequest(shape, method);
    const replacesType = headers.some(([name]) => name === "content-type");
    return {
      ...good,
      headers: [...(replacesType ? [] : good.headers), ...headers],
      scenario: "bad-header",
      label: `${headers.map(([name]) => name).join("+")} on ${method} ${shape.name}`,
      mustRefuse: true,
    };
  });
}

/**
 * A write on a seed or absent document, or a POST (documents, keys), whose body its route refuses: malformed,
 * too deep, too large (declared, undeclared or lying Content-Length), not UTF-8, not an object, against the
 * collection's schema, a patch that fails (atomically, after operations that would apply).
 */
function badBody(world: World): fc.Arbitrary<HostileRequest> {
  const ref = pick([...world.seeds, ...world.absent]);
  const put = fc.tuple(ref, pick([...BAD_JSON_BODIES, ...NOT_OBJECTS])).map(([r, body]) => ({
    method: "PUT",
    segments: docSegments(r),
    contentType: JSON_TYPE,
    body,
  }));
  const todo = fc
    .tuple(pick(world.seeds.filter((r) => r.collection === "todos")), pick(BAD_TODOS))
    .map(([r, body]) => ({ method: "PUT", segments: docSegments(r), contentType: JSON_TYPE, body }));
  const post = fc.tuple(ref, pick([...BAD_JSON_BODIES, ...NOT_OBJECTS])).map(([r, body]) => ({
    method: "POST",
    segments: ["v1", r.collection] as Text[],
    contentType: JSON_TYPE,
    body,
  }));
  const postTodo = pick(BAD_TODOS).map((body) => ({
    method: "POST",
    segments: ["v1", "todos"] as Text[],
    contentType: JSON_TYPE,
    body,
  }));
  const merge = fc.tuple(ref, pick([...BAD_JSON_BODIES, ...BAD_MERGES])).map(([r, body]) => ({
    method: "PATCH",
    segments: docSegments(r),
    contentType: MERGE_TYPE,
    body,
  }));
  const patch = fc.tuple(ref, pick([...BAD_JSON_BODIES, ...BAD_JSON_PATCHES])).map(([r, body]) => ({
    method: "PATCH",
    segments: docSegments(r),
    contentType: PATCH_TYPE,
    body,
  }));
  const key = pick(BAD_KEY_BODIES).map((body) => ({
    method: "POST",
    segments: ["v1", "_admin", "keys"] as Text[],
    contentType: JSON_TYPE,
    body,
  }));
  return fc.oneof(put, todo, post, postTodo, merge, patch, key).map(
    (r): HostileRequest => ({
      scenario: "bad-body",
      label: `bad body on ${r.method} ${r.segments.slice(1, 3).map(expand).join("/")}`,
      credential: "default",
      method: r.method,
      segments: r.segments,
      query: [],
      headers: [["content-type", r.contentType]],
      body: r.body,
      mustRefuse: true,
    }),
  );
}

/** A read whose query the route rejects: unindexed fields, SQL-shaped values, bounds, cursors, floods. */
function badQuery(world: World): fc.Arbitrary<HostileRequest> {
  const ref = pick([...world.seeds, ...world.absent]);
  const collection = pick(["todos", ...world.seeds.map((r) => r.collection)]);
  const cases = fc.oneof(
    fc
      .tuple(collection, pick(BAD_COLLECTION_QUERIES))
      .map(([c, q]) => ({ segments: ["v1", c] as Text[], query: q })),
    pick(BAD_FEED_QUERIES).map((q) => ({ segments: ["v1", "_changes"] as Text[], query: q })),
    fc
      .tuple(ref, pick(BAD_HISTORY_QUERIES))
      .map(([r, q]) => ({ segments: [...docSegments(r), "_history"], query: q })),
    fc.tuple(ref, pick(BAD_READ_QUERIES)).map(([r, q]) => ({ segments: docSegments(r), query: q })),
    fc.constantFrom(...Object.keys(BAD_ADMIN_QUERIES)).chain((path) =>
      pick(BAD_ADMIN_QUERIES[path] ?? []).map((q) => ({
        segments: ["v1", ...path.split("/")] as Text[],
        query: q,
      })),
    ),
  );
  return fc.tuple(cases, pick(["GET", "HEAD"])).map(
    ([c, method]): HostileRequest => ({
      scenario: "bad-query",
      label: `bad query on ${c.segments
        .slice(1)
        .map((s) => expand(s).slice(0, 20))
        .join("/")}`,
      credential: "default",
      method,
      segments: c.segments,
      query: c.query,
      headers: [],
      body: null,
      mustRefuse: true,
    }),
  );
}

/** Revocations a tenant admin may not make: another tenant's key, ids that are no key, injection-shaped ids. */
function badRevocation(world: World): fc.Arbitrary<HostileRequest> {
  const ids: Text[] = [
    ...world.keyIds.scratch,
    "0123456789abcdef",
    "%27%20OR%20%271%27%3D%271",
    "%00",
    "..",
    long("f", 10_240),
    `${world.keyIds.default[0] ?? ""}%00`,
  ];
  return pick(ids).map(
    (id): HostileRequest => ({
      scenario: "bad-revocation",
      label: "revoking a key that is not the tenant's",
      credential: "default",
      method: "DELETE",
      segments: ["v1", "_admin", "keys", id],
      query: [],
      headers: [],
      body: null,
      mustRefuse: true,
    }),
  );
}

// --- requests that may succeed -------------------------------------------------------------------------------

/** A JSON document with hostile keys and values: prototype names, unicode (lone surrogates too), big numbers. */
const hostileDocument: fc.Arbitrary<Body> = fc
  .tuple(
    fc.dictionary(
      fc.oneof(
        fc.string({ unit: "binary", maxLength: 8 }),
        pick(["__proto__", "constructor", "prototype", ""]),
      ),
      fc.jsonValue({ maxDepth: 3, stringUnit: "binary" }),
      { maxKeys: 5, noNullPrototype: true },
    ),
    fc.boolean(),
  )
  .map(([value, proto]) => {
    const body = JSON.stringify(value);
    if (!proto) return json(body);
    return json(
      body === "{}" ? '{"__proto__":{"polluted":"yes"}}' : `{"__proto__":{"polluted":"yes"},${body.slice(1)}`,
    );
  });

/** JSON Patches of random operations on paths that name prototype members, the root, array ends, escapes. */
const jsonPatch: fc.Arbitrary<Body> = fc
  .array(
    fc.record({
      op: pick(["add", "remove", "replace", "move", "copy", "test", "increment"]),
      path: pick([
        "/a",
        "/__proto__",
        "/__proto__/polluted",
        "/constructor/prototype",
        "/a/-",
        "",
        "/~2",
        "/b/0",
      ]),
      from: pick(["/a", "", "/__proto__"]),
      value: fc.jsonValue({ maxDepth: 2 }),
    }),
    { maxLength: 4 },
  )
  .map((ops) => json(JSON.stringify(ops)));

const anyBody: fc.Arbitrary<Body> = fc.oneof(
  { arbitrary: hostileDocument, weight: 4 },
  { arbitrary: pick([...BAD_JSON_BODIES, ...NOT_OBJECTS, ...BAD_TODOS, ...BAD_MERGES]), weight: 2 },
  { arbitrary: pick(BAD_JSON_PATCHES), weight: 1 },
  { arbitrary: jsonPatch, weight: 2 },
);

/** Any header a client could send, valid or not. */
const anyHeader: fc.Arbitrary<readonly [string, Text]> = fc.oneof(
  pick([...BAD_TAGS, "*", '"1"', '"2", W/"3"']).chain((v) =>
    pick(["if-match", "if-none-match"]).map((n) => [n, v] as const),
  ),
  pick([...BAD_IDEMPOTENCY_KEYS, "k1", '"k2"', "' OR 1=1 --"]).map((v) => ["idempotency-key", v] as const),
  pick([...BAD_CONSISTENCY, "strong", "eventual", ""]).map((v) => ["consistency", v] as const),
  pick([...BAD_TOKENS, ...ODD_TOKENS]).map((v) => ["consistency-token", v] as const),
  pick([...BAD_CONTENT_TYPES, JSON_TYPE, MERGE_TYPE, PATCH_TYPE, "application/json; charset=UTF-8"]).map(
    (v) => ["content-type", v] as const,
  ),
  noiseHeader,
);

const scratchCollection = fc.oneof(
  { arbitrary: pick(SCRATCH_COLLECTIONS), weight: 8 },
  { arbitrary: pick(INVALID_COLLECTIONS), weight: 1 },
);
/** Ids of the tenant `scratch`: a few reused (so that patches and deletes find documents), and any others. */
const scratchId = fc.oneof(
  {
    arbitrary: pick(["s-1", "s-2", "__proto__", "constructor", "%F0%9F%92%A5", "x'%20OR%20'1'%3D'1"]),
    weight: 5,
  },
  {
    arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }).map(encodeURIComponent),
    weight: 2,
  },
  { arbitrary: pick(ODD_VALID_IDS), weight: 1 },
  { arbitrary: pick(INVALID_IDS), weight: 1 },
);

/** A route of the tenant `scratch` and the methods it takes (weighted), with valid or hostile segments. */
const scratchShape: fc.Arbitrary<{ segments: Text[]; methods: ReadonlyArray<readonly [string, number]> }> =
  fc.oneof(
    {
      arbitrary: fc.tuple(scratchCollection, scratchId).map(([c, id]) => ({
        segments: ["v1", c, id],
        methods: [
          ["PUT", 4],
          ["PATCH", 3],
          ["GET", 1],
          ["DELETE", 1],
          ["HEAD", 1],
        ] as const,
      })),
      weight: 6,
    },
    {
      arbitrary: scratchCollection.map((c) => ({
        segments: ["v1", c],
        methods: [
          ["POST", 2],
          ["GET", 1],
        ] as const,
      })),
      weight: 3,
    },
    {
      arbitrary: fc.tuple(scratchCollection, scratchId).map(([c, id]) => ({
        segments: ["v1", c, id, "_history"],
        methods: [["GET", 1]] as const,
      })),
      weight: 1,
    },
    {
      arbitrary: pick<Text[]>([
        ["v1", "_changes"],
        ["v1", "_stats"],
        ["v1", "_admin", "audit"],
        ["v1", "_admin", "dead-letters"],
        ["v1", "_admin", "keys"],
      ]).map((segments) => ({
        segments,
        methods:
          expand(segments[2] ?? "") === "keys"
            ? ([
                ["GET", 3],
                ["POST", 1],
              ] as const)
            : ([["GET", 1]] as const),
      })),
      weight: 2,
    },
  );

const anyQuery: fc.Arbitrary<readonly Text[]> = fc.oneof(
  { arbitrary: pick(HARMLESS_QUERIES), weight: 3 },
  {
    arbitrary: pick([
      ...BAD_COLLECTION_QUERIES,
      ...BAD_FEED_QUERIES,
      ...BAD_HISTORY_QUERIES,
      ...BAD_READ_QUERIES,
    ]),
    weight: 1,
  },
);

/** A body for a method, of the media type it takes (mostly) or not. */
function scratchBody(method: string): fc.Arbitrary<{ body: Body; contentType: Text }> {
  const m = canonicalMethod(method);
  const garbage = fc.record({
    body: anyBody,
    contentType: pick([...BAD_CONTENT_TYPES, JSON_TYPE, MERGE_TYPE]),
  });
  if (m === "PATCH") {
    return fc.oneof(
      { arbitrary: hostileDocument.map((body) => ({ body, contentType: MERGE_TYPE })), weight: 4 },
      { arbitrary: jsonPatch.map((body) => ({ body, contentType: PATCH_TYPE })), weight: 4 },
      { arbitrary: garbage, weight: 1 },
    );
  }
  return fc.oneof(
    { arbitrary: hostileDocument.map((body) => ({ body, contentType: JSON_TYPE })), weight: 6 },
    { arbitrary: garbage, weight: 1 },
  );
}

/**
 * Anything the tenant `scratch` may send: any method, path, headers, query and body. Some succeed; none may
 * answer 5xx. Never a key request that could pass (key bodies come from the refused list) nor a redrive (its
 * audit entry is state the suite watches).
 */
function scratchAnything(world: World): fc.Arbitrary<HostileRequest> {
  const keyRevocation = pick([...world.keyIds.default, "0123456789abcdef"]).map((id) => ({
    segments: ["v1", "_admin", "keys", id] as Text[],
    methods: [["DELETE", 1]] as const,
  }));
  return fc
    .tuple(
      fc.oneof({ arbitrary: scratchShape, weight: 19 }, { arbitrary: keyRevocation, weight: 1 }),
      fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 }),
    )
    .chain(([shape, traverse]) => {
      const method = fc.oneof(
        {
          arbitrary: fc.oneof(...shape.methods.map(([m, weight]) => ({ arbitrary: fc.constant(m), weight }))),
          weight: 9,
        },
        { arbitrary: pick([...STANDARD_METHODS, ...ODD_METHODS, ...CASED_METHODS]), weight: 1 },
      );
      return fc.tuple(traverse ? traversed(shape.segments) : fc.constant(shape.segments), method);
    })
    .chain(([segments, method]) =>
      fc.record({
        segments: fc.constant(segments),
        method: fc.constant(method),
        headers: fc.array(
          anyHeader.filter(([name]) => name !== "content-type"),
          { maxLength: 2 },
        ),
        query: fc.oneof(
          { arbitrary: fc.constant<readonly Text[]>([]), weight: 3 },
          { arbitrary: anyQuery, weight: 1 },
        ),
        payload: scratchBody(method),
        keyBody: pick(BAD_KEY_BODIES),
      }),
    )
    .map(({ segments, method, headers, query, payload, keyBody }): HostileRequest => {
      const m = canonicalMethod(method);
      const isKeys = normalizedPath(segments).replace(/\/$/, "") === "/v1/_admin/keys";
      const body = BODILESS.has(m) || m === "DELETE" ? null : isKeys ? keyBody : payload.body;
      return {
        scenario: "scratch-anything",
        label: "anything, tenant scratch",
        credential: "scratch",
        method,
        segments,
        query,
        headers:
          body === null ? headers : [["content-type", isKeys ? JSON_TYPE : payload.contentType], ...headers],
        body,
        mustRefuse: false,
      };
    });
}

/** Reads with the default credential, any query and headers: they may succeed, and cannot change anything. */
function defaultReads(world: World): fc.Arbitrary<HostileRequest> {
  return fc
    .tuple(
      defaultShapes(world).filter((shape) => shape.methods.includes("GET")),
      pick(["GET", "HEAD", "get", "OPTIONS"]),
      anyQuery,
      fc.array(
        anyHeader.filter(([name]) => name !== "content-type"),
        { maxLength: 4 },
      ),
    )
    .map(
      ([shape, method, query, headers]): HostileRequest => ({
        scenario: "default-read",
        label: `a read of ${shape.name}, tenant default`,
        credential: "default",
        method,
        segments: shape.segments,
        query,
        headers,
        body: null,
        mustRefuse: false,
      }),
    );
}

/** Every kind of hostile request, the ones that must be refused most often. */
export function hostileRequest(world: World): fc.Arbitrary<HostileRequest> {
  return withNoise(
    fc.oneof(
      { arbitrary: refusedCredential(world), weight: 4 },
      { arbitrary: wrongScope(world), weight: 2 },
      { arbitrary: badPath(world), weight: 3 },
      { arbitrary: badMethod(world), weight: 2 },
      { arbitrary: badHeader(world), weight: 3 },
      { arbitrary: badBody(world), weight: 3 },
      { arbitrary: badQuery(world), weight: 3 },
      { arbitrary: badRevocation(world), weight: 1 },
      { arbitrary: scratchAnything(world), weight: 3 },
      { arbitrary: defaultReads(world), weight: 1 },
    ),
  );
}
