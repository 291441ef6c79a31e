/**
 * The client package and its CLI as a user gets them, against the real service: the Worker bundled by wrangler
 * and run by Miniflare on a local port (bench/lib/server.ts). `npm pack` makes a tarball that installs offline into
 * a scratch project, where a script uses the client, a TypeScript file type-checks against its types, and `npx
 * tessera` runs. The CLI runs as a process, without a terminal: login (file mode 600, never a prompt), every
 * command with human and --json output and its exit code, the feed followed like tail -f, export and import round
 * trip into an empty tenant, and an import killed mid-way and resumed, which applies no line twice.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HARNESS_ADMIN_SECRET } from "../../bench/lib/credential";
import { bundle, type RunningSystem, start } from "../../bench/lib/server";

const root = resolve(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "tessera-client-"));
const configDir = join(work, "config");
const cliPath = join(root, "client/dist/cli/main.js");
const bundleDir = join(root, ".wrangler", `client-test-${process.pid}`);
let server: RunningSystem;
let url = "";

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolvePort(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

/** A key of `tenant`, made with the operator secret through the key API. */
async function keyFor(tenant: string, scopes = ["read", "write", "admin"]): Promise<string> {
  const request = () =>
    fetch(`${url}/v1/_admin/keys`, {
      method: "POST",
      // A fresh connection: a kept-alive one the server has just closed fails with "other side closed".
      headers: {
        authorization: `Bearer ${HARNESS_ADMIN_SECRET}`,
        "content-type": "application/json",
        connection: "close",
      },
      body: JSON.stringify({ tenant, scopes, name: "client test", rateLimit: "none" }),
    });
  const res = await request().catch(request);
  expect(res.status).toBe(201);
  return ((await res.json()) as { key: string }).key;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a process, without a terminal, with standard input `input` (or none). */
function tessera(
  args: string[],
  options: { env?: Record<string, string>; input?: string } = {},
): Promise<Run> {
  return new Promise((resolveRun) => {
    const child = execFile(
      process.execPath,
      [cliPath, ...args],
      {
        env: {
          PATH: process.env.PATH ?? "",
          HOME: work,
          TESSERA_CONFIG_DIR: configDir,
          NO_COLOR: "1",
          ...options.env,
        },
        maxBuffer: 256 * 1024 * 1024,
        timeout: 120_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolveRun({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? "");
  });
}

/** The CLI as a tenant, by the environment (overrides any stored login). */
const as = (key: string) => ({ env: { TESSERA_URL: url, TESSERA_KEY: key } });

const lines = (text: string) =>
  text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function eventually<T>(check: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Documents of an export file: its document lines, parsed (the first and last lines say where and how many). */
function exportedDocuments(path: string) {
  const all = readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(all[0]).toMatchObject({ tessera: "export" });
  expect(all.at(-1)).toMatchObject({ tessera: "end", documents: all.length - 2 });
  return all.slice(1, -1) as Array<{ collection: string; id: string; version: number; data: unknown }>;
}

/** Waits until an export of the tenant has `n` documents (the read model is eventual). */
async function exportWhenProjected(key: string, n: number, file: string) {
  await eventually(async () => {
    const run = await tessera(["export", "--output", file, "--quiet"], as(key));
    expect(run.code).toBe(0);
    expect(exportedDocuments(file)).toHaveLength(n);
  });
  return exportedDocuments(file);
}

function ndjsonFile(name: string, count: number, collection = "items"): string {
  const path = join(work, name);
  const rows = Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      collection,
      id: `i-${String(i).padStart(6, "0")}`,
      data: { i, name: `item ${i}`, tags: ["x", i % 7] },
    }),
  );
  writeFileSync(path, `${rows.join("\n")}\n`);
  return path;
}

beforeAll(async () => {
  execFileSync("npm", ["run", "build", "-w", "client"], { cwd: root, stdio: "ignore" });
  // Bundled inside the checkout (.wrangler/ is ignored): workerd takes modules from below its working directory.
  const script = bundle({ config: "wrangler.toml" }, bundleDir);
  server = await start(
    {
      config: "wrangler.toml",
      migrationsDir: "migrations",
      bindings: { LOG_LEVEL: "off", TESSERA_ADMIN_SECRET: HARNESS_ADMIN_SECRET },
    },
    script,
    { port: await freePort(), persistDir: join(work, "state"), fresh: true },
  );
  url = server.url;
}, 240_000);

afterAll(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
  rmSync(bundleDir, { recursive: true, force: true });
});

describe("tessera, the CLI", () => {
  it("answers --help for every command, and exits 2 on a usage error", async () => {
    for (const command of [
      [],
      ["login"],
      ["get"],
      ["put"],
      ["patch"],
      ["delete"],
      ["query"],
      ["history"],
      ["tail"],
      ["tx"],
      ["saga"],
      ["saga", "start"],
      ["saga", "status"],
      ["saga", "cancel"],
      ["dead-letters", "list"],
      ["dead-letters", "redrive"],
      ["keys", "create"],
      ["keys", "list"],
      ["keys", "revoke"],
      ["metrics"],
      ["export"],
      ["import"],
    ]) {
      const run = await tessera([...command, "--help"]);
      expect(run.code, command.join(" ")).toBe(0);
      expect(run.stdout).toMatch(/^Usage: tessera/);
    }
    expect((await tessera(["get", "todos"])).code).toBe(2);
    expect((await tessera(["frobnicate"])).code).toBe(2);
    const none = await tessera(["get", "todos", "x"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/tessera login/);
  });

  it("logs in without ever prompting when standard input is not a terminal, and stores the login readable by its owner only", async () => {
    const key = await keyFor("cli-login");
    const refused = await tessera(["login"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not a terminal/);
    const wrong = await tessera(["login", "--url", url, "--key", "tsk_0123456789abcdef_nope"]);
    expect(wrong.code).toBe(6);
    const ok = await tessera(["login", "--url", url, "--key", key]);
    expect(ok.code, ok.stderr).toBe(0);
    const file = join(configDir, "config.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ url, key });
    expect((await tessera(["put", "notes", "n-1", '{"from":"login"}'])).code).toBe(0);
    // The environment overrides the stored login: another tenant does not see the document.
    const other = await keyFor("cli-other");
    expect((await tessera(["get", "notes", "n-1"], as(other))).code).toBe(3);
    expect((await tessera(["get", "notes", "n-1", "--key", other])).code).toBe(3);
    expect((await tessera(["get", "notes", "n-1"])).code).toBe(0);
    expect((await tessera(["logout"])).code).toBe(0);
    expect(existsSync(file)).toBe(false);
  });

  it("reads and writes documents, human and --json, with exit codes by outcome", async () => {
    const cli = as(await keyFor("cli-docs"));
    const put = await tessera(
      ["put", "todos", "t-1", '{"title":"ship the cli","status":"open","priority":2}'],
      cli,
    );
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout).toContain("todos/t-1 · version 1");
    const got = await tessera(["--json", "get", "todos", "t-1"], cli);
    expect(JSON.parse(got.stdout)).toMatchObject({ id: "t-1", version: 1, data: { title: "ship the cli" } });
    const fromStdin = await tessera(["put", "notes", "n", "--json"], { ...cli, input: '{"via":"stdin"}' });
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({ data: { via: "stdin" } });
    const merged = await tessera(["patch", "todos", "t-1", '{"status":"doing"}', "--json"], cli);
    expect(JSON.parse(merged.stdout)).toMatchObject({ version: 2, data: { status: "doing", priority: 2 } });
    const incremented = await tessera(
      ["patch", "todos", "t-1", "--increment", "priority=3", "--max", "10", "--json"],
      cli,
    );
    expect(JSON.parse(incremented.stdout)).toMatchObject({ version: 3, data: { priority: 5 } });
    const bound = await tessera(["patch", "todos", "t-1", "--increment", "priority=30", "--max", "10"], cli);
    expect(bound.code).toBe(4);
    expect(bound.stderr).toContain("patch-bound-exceeded");
    expect((await tessera(["put", "todos", "t-1", '{"title":"x"}', "--if-match", "1"], cli)).code).toBe(4);
    const invalid = await tessera(["put", "todos", "t-2", '{"title":""}', "--json"], cli);
    expect(invalid.code).toBe(5);
    expect(JSON.parse(invalid.stderr)).toMatchObject({
      error: { status: 422, code: "document-invalid", pointer: "/title" },
    });
    expect((await tessera(["put", "todos", "t-2", "not json"], cli)).code).toBe(2);
    const history = await tessera(["history", "todos", "t-1", "--json"], cli);
    expect(lines(history.stdout).map((e) => e.version)).toEqual([1, 2, 3]);
    expect((await tessera(["get", "todos", "t-1", "--at", "1", "--json"], cli)).stdout).toContain(
      '"status":"open"',
    );
    const deleted = await tessera(["delete", "todos", "t-1"], cli);
    expect(deleted.stdout).toContain("deleted todos/t-1 (version 4)");
    expect((await tessera(["get", "todos", "t-1"], cli)).code).toBe(3);
    const created = await tessera(["create", "notes", '{"a":1}', "--json"], cli);
    expect(JSON.parse(created.stdout)).toMatchObject({ version: 1, data: { a: 1 } });
  });

  it("queries, follows the feed like tail -f, and runs transactions", async () => {
    const key = await keyFor("cli-query");
    const cli = as(key);
    for (const [id, status, priority] of [
      ["a", "open", 1],
      ["b", "open", 5],
      ["c", "done", 9],
    ] as const) {
      expect(
        (await tessera(["put", "todos", id, JSON.stringify({ title: id, status, priority })], cli)).code,
      ).toBe(0);
    }
    await eventually(async () => {
      const run = await tessera(
        ["query", "todos", "--where", "status=open", "--order", "-priority", "--json"],
        cli,
      );
      expect(lines(run.stdout).map((d) => d.id)).toEqual(["b", "a"]);
    });
    await eventually(async () => {
      const ranged = await tessera(
        ["query", "todos", "--where", "priority>=5", "--where", "status:in:open,done", "--json"],
        cli,
      );
      expect(
        lines(ranged.stdout)
          .map((d) => d.id)
          .sort(),
      ).toEqual(["b", "c"]);
    });
    const paged = await tessera(["query", "todos", "--limit", "1"], cli);
    expect(paged.stderr).toMatch(/more: --cursor /);
    expect((await tessera(["query", "todos", "--where", "title=x"], cli)).code).toBe(5);

    const feed = await tessera(["tail", "--from-start", "--no-follow", "--json"], cli);
    expect(
      lines(feed.stdout).map((c) => c.id),
      feed.stderr,
    ).toEqual(["a", "b", "c"]);

    // Followed: a change written after tail started arrives on its standard output.
    const follower: ChildProcess = spawn(
      process.execPath,
      [cliPath, "tail", "--json", "--collection", "notes"],
      {
        env: {
          PATH: process.env.PATH ?? "",
          TESSERA_CONFIG_DIR: configDir,
          TESSERA_URL: url,
          TESSERA_KEY: key,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let followed = "";
    follower.stdout?.on("data", (chunk: Buffer) => {
      followed += chunk.toString();
    });
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await tessera(["put", "notes", "late", '{"n":1}'], cli)).code).toBe(0);
    await eventually(async () => expect(followed).toContain('"id":"late"'), 20_000);
    follower.kill("SIGINT");
    await new Promise((r) => follower.once("exit", r));
    expect(lines(followed).map((c) => c.id)).toEqual(["late"]);

    const tx = await tessera(["tx", "--json"], {
      ...cli,
      input: JSON.stringify([
        { op: "put", collection: "accounts", id: "alice", data: { balance: 10 } },
        { op: "put", collection: "accounts", id: "bob", data: { balance: 0 } },
      ]),
    });
    expect(tx.code, tx.stderr).toBe(0);
    expect(JSON.parse(tx.stdout).results).toHaveLength(2);
    const aborted = await tessera(
      [
        "tx",
        JSON.stringify({
          operations: [
            {
              op: "patch",
              collection: "accounts",
              id: "alice",
              patch: [{ op: "increment", path: "/balance", value: -50, min: 0 }],
            },
          ],
        }),
      ],
      cli,
    );
    expect(aborted.code).toBe(4);
    expect(aborted.stderr).toContain("transaction-aborted");
  });

  it("starts, follows and cancels sagas", async () => {
    const cli = as(await keyFor("cli-saga"));
    await tessera(["put", "inventory", "pen", '{"stock":10}'], cli);
    await tessera(["put", "balances", "ada", '{"balance":100}'], cli);
    const input = {
      orderId: "o-1",
      sku: "pen",
      quantity: 2,
      customer: "ada",
      amount: 40,
      payment: "balance",
    };
    const done = await tessera(
      ["saga", "start", "place-order", JSON.stringify(input), "--wait", "--json"],
      cli,
    );
    expect(done.code, done.stderr).toBe(0);
    const saga = JSON.parse(done.stdout) as { id: string; status: string };
    expect(saga.status).toBe("completed");
    const status = await tessera(["saga", "status", saga.id], cli);
    expect(status.stdout).toContain("completed");
    expect(status.stdout).toContain("reserve-stock: done");
    expect((await tessera(["saga", "cancel", saga.id], cli)).code).toBe(4);
    expect((await tessera(["saga", "status", "01J0000000000000000000000A"], cli)).code).toBe(3);
    await eventually(async () => {
      const listed = await tessera(["saga", "list", "--json"], cli);
      expect(lines(listed.stdout).map((s) => s.id)).toContain(saga.id);
    });
  });

  it("manages keys, dead letters and metrics as the operator or a tenant's admin", async () => {
    const operator = as(HARNESS_ADMIN_SECRET);
    const created = await tessera(
      ["keys", "create", "--tenant", "cli-keys", "--scopes", "read,write", "--name", "ci", "--json"],
      operator,
    );
    expect(created.code, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string };
    const listed = await tessera(["keys", "list", "--tenant", "cli-keys", "--json"], operator);
    expect(lines(listed.stdout).map((k) => k.id)).toContain(key.id);
    expect((await tessera(["put", "notes", "k", "{}"], as(key.key))).code).toBe(0);
    expect((await tessera(["metrics"], as(key.key))).code).toBe(6);
    expect((await tessera(["keys", "revoke", key.id], operator)).code).toBe(0);
    expect((await tessera(["keys", "revoke", key.id], operator)).code).toBe(3);
    const admin = as(await keyFor("cli-keys"));
    expect((await tessera(["dead-letters", "list", "--json"], admin)).stdout).toBe("");
    expect(JSON.parse((await tessera(["dead-letters", "redrive", "--all", "--json"], admin)).stdout)).toEqual(
      {
        redriven: 0,
        remaining: 0,
      },
    );
    const metrics = await tessera(["metrics"], admin);
    expect(metrics.code).toBe(0);
    expect(metrics.stdout).toContain("# TYPE tessera_");
    expect(JSON.parse((await tessera(["stats", "--json"], admin)).stdout)).toHaveProperty("eventsProjected");
  });
});

describe("export and import", () => {
  it("round trip: export, import into an empty tenant, export again gives the same documents", {
    timeout: 180_000,
  }, async () => {
    const source = await keyFor("cli-source");
    const target = await keyFor("cli-target");
    const seed = await tessera(["import", ndjsonFile("seed.ndjson", 500), "--json"], as(source));
    expect(seed.code, seed.stderr).toBe(0);
    expect(JSON.parse(seed.stdout)).toMatchObject({ written: 500, refused: 0 });
    expect((await tessera(["put", "todos", "t", '{"title":"one of each"}'], as(source))).code).toBe(0);
    const first = await exportWhenProjected(source, 501, join(work, "first.ndjson"));
    const imported = await tessera(["import", join(work, "first.ndjson")], as(target));
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/501 written, 0 replayed, 2 skipped, 0 refused/);
    expect(imported.stderr).toMatch(/^import: \d+\/503 lines/m);
    const second = await exportWhenProjected(target, 501, join(work, "second.ndjson"));
    const strip = (d: { collection: string; id: string; data: unknown }) =>
      JSON.stringify([d.collection, d.id, d.data]);
    expect(second.map(strip)).toEqual(first.map(strip));
    // On standard output, with the progress on standard error.
    const piped = await tessera(["export", "--collection", "todos"], as(target));
    expect(piped.stdout.trim().split("\n")).toHaveLength(3);
    expect(piped.stderr).toMatch(/exported 1 documents/);
  });

  it("an import killed mid-way resumes where it stopped and applies no line twice", async () => {
    const key = await keyFor("cli-resume");
    const file = ndjsonFile("resume.ndjson", 1_500);
    const child = spawn(process.execPath, [cliPath, "import", file, "--chunk-lines", "50"], {
      env: {
        PATH: process.env.PATH ?? "",
        TESSERA_CONFIG_DIR: configDir,
        TESSERA_URL: url,
        TESSERA_KEY: key,
      },
      stdio: "ignore",
    });
    const imports = join(configDir, "imports");
    await eventually(async () => {
      const [state] = existsSync(imports) ? readdirSync(imports).filter((f) => f.endsWith(".json")) : [];
      expect(state).toBeDefined();
      const { nextLine } = JSON.parse(readFileSync(join(imports, state as string), "utf8")) as {
        nextLine: number;
      };
      expect(nextLine).toBeGreaterThan(300);
    }, 60_000);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const [state] = readdirSync(imports).filter((f) => f.endsWith(".json"));
    const stopped = JSON.parse(readFileSync(join(imports, state as string), "utf8")) as { nextLine: number };
    expect(stopped.nextLine).toBeLessThan(1_501);

    const resumed = await tessera(["import", file, "--chunk-lines", "50", "--json"], as(key));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming import sha256-[0-9a-f]+ at line \d+ of 1500/);
    const summary = JSON.parse(resumed.stdout) as { written: number; replayed: number; refused: number };
    expect(summary.refused).toBe(0);
    expect(summary.written + summary.replayed).toBeGreaterThanOrEqual(1_500);
    expect(summary.written).toBeLessThanOrEqual(1_500);
    expect(readdirSync(imports)).toEqual([]);
    // Every document once, at version 1: nothing was applied twice.
    const docs = await exportWhenProjected(key, 1_500, join(work, "resumed.ndjson"));
    expect(docs.every((d) => d.version === 1)).toBe(true);
    // Running the whole import again replays every line.
    const again = await tessera(["import", file, "--json", "--quiet"], as(key));
    expect(JSON.parse(again.stdout)).toMatchObject({ written: 0, replayed: 1_500 });
  }, 180_000);

  it("reports refused lines by number and exits 8", async () => {
    const key = await keyFor("cli-refused");
    const path = join(work, "bad.ndjson");
    writeFileSync(
      path,
      [
        '{"collection":"notes","id":"a","data":{}}',
        "{oops",
        '{"collection":"todos","id":"t","data":{"title":""}}',
      ].join("\n"),
    );
    const run = await tessera(["import", path], as(key));
    expect(run.code).toBe(8);
    expect(run.stdout).toContain("1 written");
    expect(run.stdout).toContain("line 2: 400 malformed-json");
    expect(run.stdout).toContain("line 3: 422 document-invalid");
  });
});

describe("the packed package", () => {
  it("installs from its tarball into a scratch project, offline, and works there: import, types, npx tessera", async () => {
    const packs = join(work, "pack");
    mkdirSync(packs);
    const packed = execFileSync("npm", ["pack", "--pack-destination", packs, "--json"], {
      cwd: join(root, "client"),
      encoding: "utf8",
    });
    const [{ filename, files }] = JSON.parse(packed) as [
      { filename: string; files: Array<{ path: string }> },
    ];
    const paths = files.map((f) => f.path);
    expect(paths).toContain("dist/index.js");
    expect(paths).toContain("dist/index.d.ts");
    expect(paths).toContain("dist/cli/main.js");
    expect(paths.some((p) => p.startsWith("src/"))).toBe(false);

    const project = join(work, "scratch");
    mkdirSync(project);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "scratch", private: true, type: "module" }),
    );
    // Offline, from the npm cache, when it holds every dependency's metadata; npm asks the registry for full
    // metadata that an install from a lockfile does not cache, so it falls back to --prefer-offline (the cache
    // first, the registry only for what the cache lacks).
    const install = (mode: string) =>
      execFileSync("npm", ["install", mode, "--no-audit", "--no-fund", join(packs, filename)], {
        cwd: project,
        stdio: "pipe",
        encoding: "utf8",
      });
    try {
      install("--offline");
    } catch (error) {
      expect(String((error as { stderr?: string }).stderr)).toContain("ENOTCACHED");
      install("--prefer-offline");
    }
    const key = await keyFor("cli-package");
    writeFileSync(
      join(project, "use.mjs"),
      `import { tessera, TesseraError } from "@tessera/client";
const db = tessera({ url: process.env.TESSERA_URL, key: process.env.TESSERA_KEY });
const todos = db.collection("todos");
const doc = await todos.put("p-1", { title: "from the package" });
const read = await todos.get("p-1");
const refused = await todos.put("p-2", { title: "" }).catch((e) => e);
console.log(JSON.stringify({ version: doc.version, title: read.data.title, error: refused instanceof TesseraError ? refused.code : null }));
`,
    );
    const used = execFileSync(process.execPath, ["use.mjs"], {
      cwd: project,
      encoding: "utf8",
      env: { ...process.env, TESSERA_URL: url, TESSERA_KEY: key },
    });
    expect(JSON.parse(used)).toEqual({ version: 1, title: "from the package", error: "document-invalid" });

    writeFileSync(
      join(project, "typed.ts"),
      `import { tessera, type Doc } from "@tessera/client";
const db = tessera({ url: "http://localhost:8787", key: "tsk_x" });
export async function title(id: string): Promise<string | undefined> {
  const todo: Doc<{ title: string }> | null = await db.collection("todos").get(id);
  return todo?.data.title;
}
// @ts-expect-error: a todo's title is a string
export const wrong = () => db.collection("todos").put("x", { title: 1 });
`,
    );
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          lib: ["ES2022", "DOM"],
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        files: ["typed.ts"],
      }),
    );
    execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", project], {
      encoding: "utf8",
    });

    const npx = execFileSync("npm", ["exec", "--offline", "--", "tessera", "--version"], {
      cwd: project,
      encoding: "utf8",
    });
    expect(npx.trim()).toBe("0.1.0");
    const viaBin = execFileSync(
      join(project, "node_modules/.bin/tessera"),
      ["get", "todos", "p-1", "--json"],
      {
        cwd: project,
        encoding: "utf8",
        env: { ...process.env, TESSERA_URL: url, TESSERA_KEY: key, TESSERA_CONFIG_DIR: configDir },
      },
    );
    expect(JSON.parse(viaBin)).toMatchObject({ id: "p-1", data: { title: "from the package" } });
  }, 180_000);
});
