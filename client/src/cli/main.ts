#!/usr/bin/env node
/**
 * tessera: Tessera's command line, on the client library. Human output by default, --json for scripts (one JSON
 * value, or one per line for lists and the feed), exit codes by outcome (see EXIT), --help on every command.
 * --url/--key, then TESSERA_URL/TESSERA_KEY, then the stored login (tessera login) say where and as whom; nothing
 * prompts unless standard input is a terminal.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";
import { Command, CommanderError, Option } from "commander";
import pc from "picocolors";
import {
  type Change,
  type Consistency,
  type DocumentData,
  type Envelope,
  type Saga,
  type Tessera,
  TesseraError,
  tessera,
} from "../index.js";
import {
  clearImportState,
  configDir,
  type Login,
  loginPath,
  readImportState,
  readLogin,
  removeLogin,
  saveImportState,
  saveLogin,
} from "./config.js";
import { progress } from "./progress.js";

/** Exit codes: what a script can tell apart. */
export const EXIT = {
  ok: 0,
  /** The service failed or could not be reached (5xx, network, deadline), or something unexpected. */
  failed: 1,
  /** Bad arguments or input, or no login. */
  usage: 2,
  notFound: 3,
  /** 409 or 412: a conflict, a failed precondition, an aborted transaction. */
  conflict: 4,
  /** 400, 413, 415, 422: the service refused the request as invalid. */
  invalid: 5,
  /** 401 or 403. */
  forbidden: 6,
  /** 429, after the retries. */
  rateLimited: 7,
  /** Done in part: an import some of whose lines were refused. */
  partial: 8,
  interrupted: 130,
} as const;

class UsageError extends Error {}

interface Globals {
  url?: string;
  key?: string;
  json?: boolean;
}

const out = (text: string): void => {
  process.stdout.write(`${text}\n`);
};
const note = (text: string): void => {
  process.stderr.write(`${text}\n`);
};
const json = (value: unknown): void => out(JSON.stringify(value));

function globalsOf(command: Command): Globals {
  return command.optsWithGlobals<Globals>();
}

/** Where and as whom: flags, then the environment, then the stored login. */
function resolveLogin(globals: Globals): Login {
  const stored = readLogin();
  const url = globals.url ?? process.env.TESSERA_URL ?? stored?.url;
  const key = globals.key ?? process.env.TESSERA_KEY ?? stored?.key;
  if (url === undefined || url === "") {
    throw new UsageError(
      "no service: run `tessera login`, pass --url and --key, or set TESSERA_URL and TESSERA_KEY",
    );
  }
  return { url, key: key ?? "" };
}

function connect(command: Command, options: { consistency?: Consistency } = {}): Tessera {
  const login = resolveLogin(globalsOf(command));
  return tessera({ url: login.url, key: login.key, ...options });
}

/** JSON from an argument, a file (--file, "-" for standard input), or standard input when it is not a terminal. */
async function readJson(arg: string | undefined, file: string | undefined, what: string): Promise<unknown> {
  let text: string;
  if (arg !== undefined) text = arg;
  else if (file !== undefined) text = file === "-" ? await readStdin() : readFileSync(file, "utf8");
  else if (!process.stdin.isTTY) text = await readStdin();
  else throw new UsageError(`give the ${what} as an argument, with --file, or on standard input`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the ${what} is not JSON: ${(error as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function objectOf(value: unknown, what: string): DocumentData {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`the ${what} must be a JSON object`);
  }
  return value as DocumentData;
}

const integer = (name: string) => (value: string) => {
  if (!/^-?[0-9]+$/.test(value))
    throw new UsageError(`${name} must be an integer, not ${JSON.stringify(value)}`);
  return Number(value);
};

const list = (value: string) =>
  value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");

const collect = (value: string, previous: string[] = []) => [...previous, value];

function printDoc(doc: Envelope, asJson: boolean | undefined): void {
  if (asJson) {
    json(doc);
    return;
  }
  out(pc.dim(`${doc.collection}/${doc.id} · version ${doc.version} · updated ${doc.updatedAt}`));
  out(JSON.stringify(doc.data, null, 2));
}

function printChange(change: Change, asJson: boolean | undefined): void {
  if (asJson) {
    json(change);
    return;
  }
  const type = change.type === "delete" ? pc.red(change.type) : pc.green(change.type);
  const tx = change.txId === undefined ? "" : pc.dim(` tx ${change.txId}`);
  out(
    `${pc.dim(change.committedAt)} ${type} ${pc.bold(`${change.collection}/${change.id}`)} v${change.version}${tx}` +
      (change.data === null ? "" : ` ${JSON.stringify(change.data)}`),
  );
}

function printSaga(saga: Saga, asJson: boolean | undefined): void {
  if (asJson) {
    json(saga);
    return;
  }
  const colour = saga.status === "completed" ? pc.green : saga.status === "running" ? pc.cyan : pc.yellow;
  out(
    `${pc.bold(saga.id)} ${saga.name} ${colour(saga.status)}${saga.reason === null ? "" : ` (${saga.reason})`}`,
  );
  for (const step of saga.steps) {
    const compensation = step.compensation === null ? "" : `, compensation ${step.compensation.status}`;
    const error = step.action.error === null ? "" : pc.red(` ${step.action.error}`);
    out(`  ${step.name}: ${step.action.status} (${step.action.attempts} attempts${compensation})${error}`);
  }
}

/** A query filter: field=value, field!=value, field>value, >=, <, <=, field^=prefix, field:in:a,b, field:op:value. */
export function parseWhere(expression: string): [string, string, string | string[]] {
  const long = /^([^:=<>!^]+):(eq|ne|gt|gte|lt|lte|in|prefix):(.*)$/.exec(expression);
  if (long) {
    const [, field = "", op = "", value = ""] = long;
    return [field, op, op === "in" ? list(value) : value];
  }
  const short = /^([^=<>!^]+?)(!=|>=|<=|\^=|=|>|<)(.*)$/.exec(expression);
  if (short) {
    const [, field = "", sign = "", value = ""] = short;
    const op = { "=": "eq", "!=": "ne", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "^=": "prefix" }[
      sign
    ];
    if (op !== undefined) return [field.trim(), op, value];
  }
  throw new UsageError(
    `cannot read the filter ${JSON.stringify(expression)}: use field=value, field>=value, field:in:a,b`,
  );
}

/** A filter value as typed on a command line: numbers and booleans as such, the rest as text. */
function typed(value: string): string | number | boolean {
  if (value === "true" || value === "false") return value === "true";
  if (/^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(value)) return Number(value);
  return value;
}

/** A secret typed at a terminal, not echoed. */
async function askSecret(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  const answer = rl.question(question);
  muted = true;
  const key = await answer;
  rl.close();
  process.stderr.write("\n");
  return key.trim();
}

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(question);
  rl.close();
  return answer.trim();
}

/** An import's id from its file: the SHA-256 of its bytes, with its line count, read once. */
async function fileFacts(path: string): Promise<{ importId: string; lines: number; bytes: number }> {
  const hash = createHash("sha256");
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(path)) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) lines += 1;
    last = bytes.at(-1) ?? last;
  }
  const { size } = await stat(path);
  if (size > 0 && last !== 10) lines += 1;
  return { importId: `sha256-${hash.digest("hex").slice(0, 40)}`, lines, bytes: size };
}

/** Lines of a file from line `first` on (numbered from 1), blank ones included so numbers stay the file's. */
async function* fileLines(path: string, first: number): AsyncGenerator<string> {
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const line of rl) {
    n += 1;
    if (n >= first) yield line;
  }
}

export function program(): Command {
  const cli = new Command()
    .name("tessera")
    .description(
      "Tessera from the command line: documents, queries, the change feed, transactions, sagas, operations",
    )
    .version("0.1.0")
    .option("--url <url>", "the service's URL (default: TESSERA_URL, then the stored login)")
    .option(
      "--key <key>",
      "the API key, JWT or operator secret (default: TESSERA_KEY, then the stored login)",
    )
    .option("--json", "machine-readable output: one JSON value, or one per line for lists and the feed")
    .option("--no-color", "no colours (also NO_COLOR=1)")
    .showHelpAfterError()
    .addHelpText(
      "after",
      `
Exit codes: 0 ok, 1 the service failed or was unreachable, 2 usage, 3 not found, 4 conflict or precondition
failed, 5 invalid request, 6 unauthenticated or forbidden, 7 rate limited, 8 done in part (import), 130 interrupted.
The login is stored in ${loginPath()} (mode 600).`,
    );

  cli
    .command("login")
    .description(
      "store the service's URL and a key for the next commands (asks for what is missing on a terminal)",
    )
    .action(async (_options, command: Command) => {
      const globals = globalsOf(command);
      let url = globals.url ?? process.env.TESSERA_URL;
      let key = globals.key ?? process.env.TESSERA_KEY;
      if ((url === undefined || key === undefined) && !process.stdin.isTTY) {
        throw new UsageError(
          "standard input is not a terminal: pass --url and --key (or TESSERA_URL and TESSERA_KEY)",
        );
      }
      url ??= await ask("URL of the service (e.g. http://localhost:8787): ");
      key ??= await askSecret("API key: ");
      if (!/^https?:\/\//.test(url)) throw new UsageError(`not an http(s) URL: ${url}`);
      const db = tessera({ url, key, retry: { retries: 1 } });
      if (!(await db.health()))
        throw new TesseraError({ status: 0, code: "unreachable", detail: `${url} did not answer /healthz` });
      // Any answer but 401 proves the credential: a key without the read scope (or the operator) gets 403 here.
      const probe = await db.api.GET("/v1/_changes", { params: { query: { limit: 1 } } });
      if (probe.response.status === 401) {
        throw new TesseraError({
          status: 401,
          code: "invalid-credential",
          detail: "the service refused this key",
        });
      }
      const path = saveLogin({ url, key });
      if (globals.json) json({ url, stored: path });
      else out(`${pc.green("logged in")} to ${url}; stored in ${path}`);
    });

  cli
    .command("logout")
    .description("forget the stored login")
    .action((_options, command: Command) => {
      const removed = removeLogin();
      if (globalsOf(command).json) json({ removed });
      else out(removed ? "logged out" : "no stored login");
    });

  cli
    .command("get <collection> <id>")
    .description("read a document")
    .addOption(
      new Option("--consistency <level>", "session, strong or eventual").choices([
        "session",
        "strong",
        "eventual",
      ]),
    )
    .option("--at <version>", "the document as it was at this version", integer("--at"))
    .action(
      async (
        collection: string,
        id: string,
        options: { consistency?: Consistency; at?: number },
        command: Command,
      ) => {
        const db = connect(command);
        const doc = await db.collection(collection).get(id, {
          ...(options.consistency === undefined
            ? { consistency: "strong" as const }
            : { consistency: options.consistency }),
          ...(options.at === undefined ? {} : { version: options.at }),
        });
        if (doc === null)
          throw new TesseraError({
            status: 404,
            code: "not-found",
            detail: `no document ${collection}/${id}`,
          });
        printDoc(doc, globalsOf(command).json);
      },
    );

  const writeOptions = (command: Command) =>
    command
      .option("--file <path>", 'read the JSON from a file ("-": standard input)')
      .option("--if-match <version>", "only if the document is at this version", integer("--if-match"))
      .option(
        "--idempotency-key <key>",
        "the write's Idempotency-Key (default: a new one; retries reuse it)",
      );

  interface WriteFlags {
    file?: string;
    ifMatch?: number;
    ifNoneMatch?: boolean;
    idempotencyKey?: string;
  }
  const writeFlags = (o: WriteFlags) => ({
    ...(o.ifMatch === undefined ? {} : { ifMatch: o.ifMatch }),
    ...(o.ifNoneMatch ? { ifNoneMatch: "*" as const } : {}),
    ...(o.idempotencyKey === undefined ? {} : { idempotencyKey: o.idempotencyKey }),
  });

  writeOptions(
    cli
      .command("put <collection> <id> [json]")
      .description("create or replace a document (JSON from the argument, --file or standard input)")
      .option("--if-none-match", "only if it does not exist yet"),
  ).action(
    async (
      collection: string,
      id: string,
      body: string | undefined,
      options: WriteFlags,
      command: Command,
    ) => {
      const data = objectOf(await readJson(body, options.file, "document"), "document");
      const doc = await connect(command).collection(collection).put(id, data, writeFlags(options));
      printDoc(doc, globalsOf(command).json);
    },
  );

  cli
    .command("create <collection> [json]")
    .description("create a document with an id the service chooses")
    .option("--file <path>", 'read the JSON from a file ("-": standard input)')
    .action(
      async (collection: string, body: string | undefined, options: { file?: string }, command: Command) => {
        const data = objectOf(await readJson(body, options.file, "document"), "document");
        printDoc(await connect(command).collection(collection).create(data), globalsOf(command).json);
      },
    );

  writeOptions(
    cli
      .command("patch <collection> <id> [patch]")
      .description("patch a document: a JSON object is a merge patch, an array a JSON Patch; or --increment")
      .option("--increment <field=n>", "add n to a number field, atomically (repeatable)", collect)
      .option("--min <n>", "with --increment: the least the result may be", Number)
      .option("--max <n>", "with --increment: the most the result may be", Number),
  ).action(
    async (
      collection: string,
      id: string,
      body: string | undefined,
      options: WriteFlags & { increment?: string[]; min?: number; max?: number },
      command: Command,
    ) => {
      const docs = connect(command).collection(collection);
      let doc: Envelope;
      if (options.increment !== undefined) {
        if (body !== undefined || options.file !== undefined)
          throw new UsageError("give either a patch or --increment");
        const ops = options.increment.map((spec) => {
          const match = /^([^=]+)=(-?[0-9]+(\.[0-9]+)?)$/.exec(spec);
          if (!match) throw new UsageError(`--increment takes field=number, not ${JSON.stringify(spec)}`);
          return {
            op: "increment" as const,
            path: (match[1] ?? "").startsWith("/")
              ? (match[1] ?? "")
              : `/${(match[1] ?? "").split(".").join("/")}`,
            value: Number(match[2]),
            ...(options.min === undefined ? {} : { min: options.min }),
            ...(options.max === undefined ? {} : { max: options.max }),
          };
        });
        doc = await docs.patch(id, ops, writeFlags(options));
      } else {
        const patch = await readJson(body, options.file, "patch");
        if (typeof patch !== "object" || patch === null)
          throw new UsageError("a patch is a JSON object or array");
        doc = await docs.patch(id, patch as DocumentData, writeFlags(options));
      }
      printDoc(doc, globalsOf(command).json);
    },
  );

  cli
    .command("delete <collection> <id>")
    .description("delete a document (its history stays)")
    .option("--if-match <version>", "only if the document is at this version", integer("--if-match"))
    .action(async (collection: string, id: string, options: { ifMatch?: number }, command: Command) => {
      const { version } = await connect(command).collection(collection).delete(id, writeFlags(options));
      if (globalsOf(command).json) json({ collection, id, version, deleted: true });
      else out(`deleted ${collection}/${id} (version ${version})`);
    });

  cli
    .command("query <collection>")
    .description("query a collection on its declared indexes")
    .option(
      "--where <filter>",
      "field=value, field!=v, field>v, >=, <, <=, field^=prefix, field:in:a,b (repeatable)",
      collect,
    )
    .option("--order <field>", "order by an indexed field, -field for descending")
    .option("--limit <n>", "page size, 1 to 200", integer("--limit"))
    .option("--cursor <cursor>", "continue from a previous page")
    .option("--all", "every page, not only the first")
    .action(
      async (
        collection: string,
        options: { where?: string[]; order?: string; limit?: number; cursor?: string; all?: boolean },
        command: Command,
      ) => {
        const asJson = globalsOf(command).json;
        let query = connect(command).collection(collection).query();
        for (const where of options.where ?? []) {
          const [field, op, value] = parseWhere(where);
          query =
            op === "in"
              ? query.where(field, "in", (value as string[]).map(typed))
              : query.where(field, op as "eq", typed(value as string));
        }
        if (options.order !== undefined) query = query.orderBy(options.order);
        if (options.limit !== undefined) query = query.limit(options.limit);
        let cursor = options.cursor;
        let count = 0;
        for (;;) {
          const page = await query.page(cursor);
          for (const doc of page.items) {
            count += 1;
            if (asJson) json(doc);
            else out(`${pc.bold(doc.id)} ${pc.dim(`v${doc.version}`)} ${JSON.stringify(doc.data)}`);
          }
          if (page.next === null) break;
          if (!options.all) {
            note(pc.dim(`more: --cursor ${page.next}`));
            break;
          }
          cursor = page.next;
        }
        if (!asJson && count === 0) note(pc.dim("no documents"));
      },
    );

  cli
    .command("history <collection> <id>")
    .description("a document's versions, oldest first")
    .option("--after <version>", "versions after this one", integer("--after"))
    .option("--limit <n>", "at most this many", integer("--limit"))
    .action(
      async (
        collection: string,
        id: string,
        options: { after?: number; limit?: number },
        command: Command,
      ) => {
        const asJson = globalsOf(command).json;
        const events = connect(command)
          .collection(collection)
          .history(id, options.after === undefined ? {} : { after: options.after });
        let n = 0;
        for await (const event of events) {
          if (options.limit !== undefined && n >= options.limit) break;
          n += 1;
          if (asJson) json(event);
          else
            out(
              `v${event.version} ${pc.dim(event.committedAt)} ${event.type}${event.data === null ? "" : ` ${JSON.stringify(event.data)}`}`,
            );
        }
      },
    );

  cli
    .command("tail")
    .description("follow the change feed, like tail -f (from now on, unless --after or --from-start)")
    .option("--collection <name>", "one collection's changes")
    .option("--after <cursor>", "resume after this feed cursor")
    .option("--from-start", "from the beginning of the feed")
    .option("--no-follow", "stop at the end of the feed")
    .action(
      async (
        options: { collection?: string; after?: string; fromStart?: boolean; follow: boolean },
        command: Command,
      ) => {
        const db = connect(command);
        const asJson = globalsOf(command).json;
        let after = options.after;
        if (after === undefined && !options.fromStart) {
          // The feed's head, as an export states it: its first line, then the rest is not asked for.
          const stop = new AbortController();
          const head = await db.export({
            signal: stop.signal,
            ...(options.collection === undefined ? {} : { collection: options.collection }),
          });
          after = head.position;
          stop.abort();
        }
        const abort = new AbortController();
        process.once("SIGINT", () => abort.abort());
        const stream = db.changes({
          after,
          collection: options.collection,
          follow: options.follow,
          signal: abort.signal,
        });
        for await (const change of stream) printChange(change, asJson);
        if (!asJson && stream.cursor !== undefined) note(pc.dim(`resume with --after ${stream.cursor}`));
      },
    );

  cli
    .command("tx [json]")
    .description(
      "run a transaction: a JSON array of operations, or {operations} (argument, --file or standard input)",
    )
    .option("--file <path>", 'read the JSON from a file ("-": standard input)')
    .action(async (body: string | undefined, options: { file?: string }, command: Command) => {
      const input = await readJson(body, options.file, "transaction");
      const operations = Array.isArray(input) ? input : (input as { operations?: unknown }).operations;
      if (!Array.isArray(operations))
        throw new UsageError("a transaction is an array of operations or {operations}");
      const result = await connect(command).transaction(operations);
      if (globalsOf(command).json) return json(result);
      out(`${pc.green("committed")} ${result.txId}`);
      for (const r of result.results)
        out(`  ${r.collection}/${r.id} ${r.version === null ? "checked" : `v${r.version}`}`);
    });

  const saga = cli.command("saga").description("start, follow and cancel sagas");
  saga
    .command("start <name> [input]")
    .description('start a declared saga with its JSON input, or "custom" with --steps <file>')
    .option("--file <path>", "read the input from a file")
    .option("--steps <path>", "a saga from its steps: a file with {steps: [...]} (name: custom)")
    .option("--wait", "wait for it to finish, and exit non-zero unless it completed")
    .action(
      async (
        name: string,
        body: string | undefined,
        options: { file?: string; steps?: string; wait?: boolean },
        command: Command,
      ) => {
        const db = connect(command);
        const started =
          options.steps !== undefined
            ? await db.sagas.start(
                objectOf(await readJson(undefined, options.steps, "steps"), "steps") as { steps: unknown[] },
              )
            : await db.sagas.start(name, objectOf(await readJson(body, options.file, "input"), "input"));
        if (!options.wait) {
          if (globalsOf(command).json) return json(started);
          return out(`started saga ${pc.bold(started.id)}: tessera saga status ${started.id}`);
        }
        const finished = await db.sagas.wait(started.id, { timeoutMs: 10 * 60_000 });
        printSaga(finished, globalsOf(command).json);
        if (finished.status !== "completed") process.exitCode = EXIT.conflict;
      },
    );
  saga
    .command("status <id>")
    .description("a saga's status and each step's outcome")
    .option("--wait", "wait for it to finish")
    .action(async (id: string, options: { wait?: boolean }, command: Command) => {
      const db = connect(command);
      const view = options.wait
        ? await db.sagas.wait(id, { timeoutMs: 10 * 60_000 })
        : await db.sagas.get(id);
      if (view === null) throw new TesseraError({ status: 404, code: "not-found", detail: `no saga ${id}` });
      printSaga(view, globalsOf(command).json);
    });
  saga
    .command("cancel <id>")
    .description("stop a running saga; its completed steps are compensated")
    .action(async (id: string, _options, command: Command) => {
      await connect(command).sagas.cancel(id);
      if (globalsOf(command).json) json({ id, cancelRequested: true });
      else out(`cancelling saga ${id}`);
    });
  saga
    .command("list")
    .description("the tenant's sagas, newest first")
    .addOption(
      new Option("--status <status>").choices([
        "running",
        "completed",
        "compensating",
        "compensated",
        "failed",
        "cancelled",
      ]),
    )
    .option("--limit <n>", "at most this many", integer("--limit"))
    .action(async (options: { status?: Saga["status"]; limit?: number }, command: Command) => {
      const items = await connect(command)
        .sagas.list(options.status === undefined ? {} : { status: options.status })
        .toArray(options.limit ?? 50);
      for (const item of items) {
        if (globalsOf(command).json) json(item);
        else out(`${item.id} ${item.name} ${item.status} ${pc.dim(item.createdAt)}`);
      }
    });

  const dead = cli.command("dead-letters").description("events that exhausted their retries (admin)");
  dead
    .command("list")
    .option("--tenant <tenant>", "for the operator: one tenant")
    .option("--limit <n>", "at most this many", integer("--limit"))
    .action(async (options: { tenant?: string; limit?: number }, command: Command) => {
      const items = await connect(command)
        .admin.deadLetters.list(options.tenant === undefined ? {} : { tenant: options.tenant })
        .toArray(options.limit ?? 1000);
      for (const item of items) {
        if (globalsOf(command).json) json(item);
        else
          out(
            `${item.messageId} ${pc.dim(item.receivedAt)} attempts ${item.attempts}, deaths ${item.deaths}`,
          );
      }
      if (!globalsOf(command).json && items.length === 0) note(pc.dim("no dead letters"));
    });
  dead
    .command("redrive")
    .description(
      "send pending dead letters back through the projector (100 at a time; --all until none remain)",
    )
    .option("--tenant <tenant>", "for the operator: one tenant")
    .option("--all", "repeat until none remain")
    .action(async (options: { tenant?: string; all?: boolean }, command: Command) => {
      const db = connect(command);
      let total = 0;
      let remaining = 0;
      for (;;) {
        const result = await db.admin.deadLetters.redrive(
          options.tenant === undefined ? {} : { tenant: options.tenant },
        );
        total += result.redriven;
        remaining = result.remaining;
        if (!options.all || result.redriven === 0 || remaining === 0) break;
      }
      if (globalsOf(command).json) json({ redriven: total, remaining });
      else out(`redriven ${total}; ${remaining} remaining`);
    });

  const keys = cli.command("keys").description("API keys (admin)");
  keys
    .command("create")
    .requiredOption("--tenant <tenant>", "the tenant the key acts for")
    .requiredOption("--scopes <scopes>", "comma-separated: read, write, admin", list)
    .requiredOption("--name <name>", "what the key is for")
    .option("--collections <names>", "comma-separated: the collections it may use (default: all)", list)
    .option("--rate-limit <tier>", "its rate-limit tier")
    .action(
      async (
        options: {
          tenant: string;
          scopes: string[];
          name: string;
          collections?: string[];
          rateLimit?: string;
        },
        command: Command,
      ) => {
        const created = await connect(command).admin.keys.create({
          tenant: options.tenant,
          scopes: options.scopes as Array<"read" | "write" | "admin">,
          name: options.name,
          ...(options.collections === undefined ? {} : { collections: options.collections }),
          ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit as "default" }),
        });
        if (globalsOf(command).json) return json(created);
        out(created.key);
        note(
          pc.dim(`key ${created.id} for ${created.tenant} (${created.scopes.join(", ")}): shown this once`),
        );
      },
    );
  keys
    .command("list")
    .option("--tenant <tenant>", "for the operator: the tenant")
    .action(async (options: { tenant?: string }, command: Command) => {
      const items = await connect(command)
        .admin.keys.list(options.tenant === undefined ? {} : { tenant: options.tenant })
        .toArray();
      for (const k of items) {
        if (globalsOf(command).json) json(k);
        else
          out(
            `${k.id} ${pc.bold(k.name)} ${k.tenant} ${k.scopes.join(",")}${k.collections === null ? "" : ` [${k.collections.join(",")}]`} ${pc.dim(k.createdAt)}`,
          );
      }
    });
  keys.command("revoke <id>").action(async (id: string, _options, command: Command) => {
    await connect(command).admin.keys.revoke(id);
    if (globalsOf(command).json) json({ id, revoked: true });
    else out(`revoked ${id}`);
  });

  cli
    .command("metrics")
    .description("the Prometheus metrics (admin)")
    .option("--tenant <tenant>", "for the operator: one tenant")
    .action(async (options: { tenant?: string }, command: Command) => {
      const text = await connect(command).admin.metrics(
        options.tenant === undefined ? {} : { tenant: options.tenant },
      );
      if (globalsOf(command).json) json({ metrics: text });
      else process.stdout.write(text);
    });

  cli
    .command("stats")
    .description("projection lag, events projected, dead letters, documents (admin)")
    .option("--tenant <tenant>", "for the operator: one tenant")
    .action(async (options: { tenant?: string }, command: Command) => {
      const stats = await connect(command).admin.stats(
        options.tenant === undefined ? {} : { tenant: options.tenant },
      );
      if (globalsOf(command).json) return json(stats);
      out(
        `lag p50 ${stats.lagMs.p50 ?? "-"} ms, p99 ${stats.lagMs.p99 ?? "-"} ms (last ${stats.lagMs.window})`,
      );
      out(
        `events projected ${stats.eventsProjected}, documents ${stats.documents}, dead letters ${stats.deadLettersPending}, held ${stats.heldEvents}`,
      );
    });

  cli
    .command("export")
    .description(
      "write the documents as NDJSON (standard output, or --output), consistent as of one feed position",
    )
    .option("--collection <name>", "one collection")
    .option("--output <file>", "write to this file instead of standard output")
    .option("--quiet", "no progress")
    .action(async (options: { collection?: string; output?: string; quiet?: boolean }, command: Command) => {
      const db = connect(command);
      const started = Date.now();
      const exported = await db.export(
        options.collection === undefined ? {} : { collection: options.collection },
      );
      const sink = options.output === undefined ? process.stdout : createWriteStream(options.output);
      const write = (text: string) =>
        sink.write(text) ? Promise.resolve() : new Promise<void>((resolve) => sink.once("drain", resolve));
      const bar = progress("export", "docs", exported.estimate, options.quiet === true);
      await write(
        `${JSON.stringify({ tessera: "export", position: exported.position, collection: options.collection ?? null, estimate: exported.estimate })}\n`,
      );
      let n = 0;
      for await (const line of exported.lines()) {
        await write(`${line}\n`);
        n += 1;
        if (n % 500 === 0) bar.update(n);
      }
      bar.update(n, Math.max(n, exported.estimate));
      await write(`${JSON.stringify(exported.end)}\n`);
      bar.stop();
      if (sink !== process.stdout) await new Promise<void>((resolve) => sink.end(resolve));
      const seconds = (Date.now() - started) / 1000;
      const summary = {
        documents: n,
        position: exported.position,
        seconds,
        perSecond: Math.round(n / Math.max(seconds, 0.001)),
      };
      if (globalsOf(command).json && options.output !== undefined) json(summary);
      else
        note(
          pc.dim(
            `exported ${n} documents as of ${exported.position} in ${seconds.toFixed(1)} s (${summary.perSecond}/s)`,
          ),
        );
    });

  cli
    .command("import <file>")
    .description(
      "write an NDJSON file's documents ({collection, id, data} per line; an export's lines do), resumably",
    )
    .option(
      "--import-id <id>",
      "name the import (default: from the file's SHA-256): the same id never applies a line twice",
    )
    .option("--chunk-lines <n>", "lines per request (default 500, at most 1000)", integer("--chunk-lines"))
    .option("--rate <lines>", "send at most this many lines per second", integer("--rate"))
    .option("--restart", "start from the first line, not where an interrupted run of this import stopped")
    .option("--quiet", "no progress")
    .action(
      async (
        file: string,
        options: {
          importId?: string;
          chunkLines?: number;
          rate?: number;
          restart?: boolean;
          quiet?: boolean;
        },
        command: Command,
      ) => {
        const db = connect(command);
        const asJson = globalsOf(command).json;
        let facts: Awaited<ReturnType<typeof fileFacts>>;
        try {
          facts = await fileFacts(file);
        } catch (error) {
          throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
        }
        const importId = options.importId ?? facts.importId;
        const saved = options.restart ? undefined : readImportState(importId);
        const first = saved?.nextLine ?? 1;
        if (saved !== undefined && !options.quiet)
          note(`resuming import ${importId} at line ${first} of ${facts.lines}`);
        const totals = {
          written: saved?.written ?? 0,
          replayed: saved?.replayed ?? 0,
          skipped: saved?.skipped ?? 0,
          refused: saved?.refused ?? 0,
        };
        const refusals: Array<{ line: number; status: number; code: string; detail: string }> = [];
        const started = Date.now();
        const bar = progress("import", "lines", facts.lines, options.quiet === true);
        bar.update(first - 1);
        const result = await db.import(fileLines(file, first), {
          importId,
          firstLine: first,
          ...(options.chunkLines === undefined ? {} : { chunkLines: options.chunkLines }),
          ...(options.rate === undefined ? {} : { linesPerSecond: options.rate }),
          onChunk: (chunk, nextLine) => {
            totals.written += chunk.written;
            totals.replayed += chunk.replayed;
            totals.skipped += chunk.skipped;
            totals.refused += chunk.refused.length;
            refusals.push(...chunk.refused);
            saveImportState(importId, { file, nextLine, ...totals });
            bar.update(nextLine - 1);
          },
        });
        bar.stop();
        clearImportState(importId);
        const seconds = (Date.now() - started) / 1000;
        const lines = result.lines;
        const summary = {
          importId,
          file,
          lines: facts.lines,
          sent: lines,
          ...totals,
          seconds,
          perSecond: Math.round(lines / Math.max(seconds, 0.001)),
          refusals,
        };
        if (asJson) json(summary);
        else {
          out(
            `imported ${file}: ${totals.written} written, ${totals.replayed} replayed, ${totals.skipped} skipped, ` +
              `${totals.refused} refused (${lines} lines in ${seconds.toFixed(1)} s, ${summary.perSecond}/s)`,
          );
          for (const r of refusals.slice(0, 20))
            out(pc.red(`  line ${r.line}: ${r.status} ${r.code}: ${r.detail}`));
          if (refusals.length > 20)
            out(pc.red(`  … and ${refusals.length - 20} more (--json lists them all)`));
        }
        if (totals.refused > 0) process.exitCode = EXIT.partial;
      },
    );

  cli
    .command("config")
    .description("where the login is stored, and which service the next command would use")
    .action((_options, command: Command) => {
      const stored = readLogin();
      const globals = globalsOf(command);
      const url = globals.url ?? process.env.TESSERA_URL ?? stored?.url ?? null;
      const info = { directory: configDir(), login: loginPath(), stored: stored !== undefined, url };
      if (globals.json) json(info);
      else out(`config ${info.login} (${info.stored ? "logged in" : "no login"}); service ${url ?? "none"}`);
    });

  return cli;
}

/** The exit code for an error: by HTTP status for the service's answers. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (!(error instanceof TesseraError)) return EXIT.failed;
  if (error.status === 404) return EXIT.notFound;
  if (error.status === 409 || error.status === 412) return EXIT.conflict;
  if (error.status === 401 || error.status === 403) return EXIT.forbidden;
  if (error.status === 429) return EXIT.rateLimited;
  if (error.status >= 400 && error.status < 500) return EXIT.invalid;
  return EXIT.failed;
}

export async function main(argv: readonly string[]): Promise<number> {
  // A reader that stops early (`| head`) ends the output, not the command with a stack trace.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(EXIT.ok);
  });
  const cli = program();
  cli.exitOverride();
  cli.configureOutput({
    writeErr: (text) => process.stderr.write(text),
    writeOut: (text) => process.stdout.write(text),
  });
  for (const sub of cli.commands) {
    sub.exitOverride();
    for (const nested of sub.commands) nested.exitOverride();
  }
  try {
    await cli.parseAsync([...argv], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.code === "commander.help"
        ? EXIT.ok
        : EXIT.usage;
    }
    const asJson = process.argv.includes("--json");
    if (error instanceof TesseraError) {
      if (asJson)
        process.stderr.write(
          `${JSON.stringify({ error: { status: error.status, code: error.code, detail: error.detail, ...(error.pointer === undefined ? {} : { pointer: error.pointer }) } })}\n`,
        );
      else
        note(
          `${pc.red("error")} ${error.status === 0 ? "" : `${error.status} `}${pc.bold(error.code)}: ${error.detail}${error.pointer === undefined ? "" : ` (at ${error.pointer})`}`,
        );
    } else {
      note(`${pc.red("error")} ${error instanceof Error ? error.message : String(error)}`);
    }
    return exitCodeOf(error);
  }
}

// Run as the bin, not when a test imports program().
const invoked = process.argv[1] ?? "";
if (/tessera$|cli[\\/]main\.[jt]s$/.test(invoked) || import.meta.url === `file://${invoked}`) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      note(String(error));
      process.exitCode = EXIT.failed;
    },
  );
}
