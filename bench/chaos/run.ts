/**
 * `npm run chaos`: Tessera under fault injection (bench/chaos/entry.ts), with concurrent clients recording every
 * operation, a restart of the whole process mid-run with state on disk, then a drain and the checker's verdict.
 * Beside the document workload runs a bank (./bank): transfers between accounts by multi-document transactions,
 * checked for atomicity and conservation while it runs and after the drain (./bank-checker); and a shop (./sagas):
 * place-order sagas against a small stock, each of whose effects must happen once or be undone (./saga-checker).
 * `--short` is the seeded run `npm test` includes; `--seconds=N --clients=N --docs=N --seed=N`,
 * `--accounts=N --bank-clients=N` and `--sagas=N --saga-clients=N --stock=N --balance=N` shape a long run, `--send-fail=P`,
 * `--decided-reset=P` (any fault below) its faults. The run fails when the read side converges later than
 * `--converge-bound=S` seconds (30) after the drain began, restart included.
 * CHAOS_LOG=warn in the environment shows the service's own log.
 *
 * `--admission` runs another experiment instead: admission control under a slow projector (./admission).
 */
import { resolve } from "node:path";
import { AUTH_BINDINGS, authFetch, HARNESS_TENANT } from "../lib/credential";
import { bundle, type RunningSystem, start } from "../lib/server";
import { admissionDemo } from "./admission";
import { BANK_COLLECTION, Bank } from "./bank";
import { checkBank, checkFeedTransactions, type FeedRow, type HeldRow, heldReady } from "./bank-checker";
import {
  checkArchive,
  checkFeed,
  checkLinearizability,
  checkReadModel,
  type LogEntry,
  type Operation,
  type ReadModelRow,
  summarize,
  type Violation,
} from "./checker";
import { seededRandom } from "./random";
import { type AmountEvent, checkSagas } from "./saga-checker";
import { SHOP_COLLECTIONS, Shop } from "./sagas";

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const short = process.argv.includes("--short");
const settings = {
  seconds: arg("seconds", short ? 8 : 60),
  clients: arg("clients", short ? 6 : 12),
  docs: arg("docs", short ? 6 : 16),
  accounts: arg("accounts", 8),
  bankClients: arg("bank-clients", short ? 4 : 8),
  sagas: arg("sagas", short ? 60 : 300),
  sagaClients: arg("saga-clients", 4),
  /** Units of each of the 3 SKUs, and each of 4 customers' balance: 10 and 250 for 60 sagas, in proportion. */
  stock: arg("stock", Math.max(1, Math.round((10 * arg("sagas", short ? 60 : 300)) / 60))),
  balance: arg("balance", Math.max(1, Math.round((250 * arg("sagas", short ? 60 : 300)) / 60))),
  seed: arg("seed", 42),
  drainSeconds: arg("drain", 120),
  /**
   * The read side must have converged this many seconds after the drain began (its restart included). It takes 5
   * to 6 s here, once 15.8 s on a busy machine; without the pipeline monitor waking backed-off outboxes it took 47
   * to 117 s, which is what the bound is there to catch.
   */
  convergeBound: arg("converge-bound", 30),
  /** How long after the drain began every saga must have ended. */
  sagaSeconds: arg("saga-deadline", 30),
};
/** Each fault's probability; `--decided-reset=0` and the like override one. */
const faults: Record<string, string> = {
  CHAOS_SEND_FAIL: "0.2",
  CHAOS_ABORT_BEFORE: "0.02",
  CHAOS_ABORT_AFTER: "0.03",
  CHAOS_PROJECTOR_FAIL: "0.15",
  CHAOS_DUPLICATE: "0.1",
  CHAOS_PREPARED_RESET: "0.02",
  CHAOS_COMMIT_RESET: "0.02",
  CHAOS_DECIDED_RESET: "0.03",
  CHAOS_MID_COMMIT_RESET: "0.03",
};
for (const name of Object.keys(faults)) {
  const override = process.argv
    .find((a) => a.startsWith(`--${name.replace("CHAOS_", "").toLowerCase().replaceAll("_", "-")}=`))
    ?.split("=")[1];
  if (override !== undefined) faults[name] = override;
}
/**
 * Not faults, and on in the drain too: what a fault leaves unfinished is finished sooner than in production, so
 * that it does not hold its accounts for most of a short run. A coordinator's recovery alarm comes within
 * CHAOS_RECOVERY_MS (20 s in production); a participant's lease, after which it asks the coordinator how its
 * transaction ended, lasts CHAOS_LEASE_MS (30 s).
 */
const timers = { CHAOS_RECOVERY_MS: "1000", CHAOS_LEASE_MS: "5000" };
/** How long the drain waits for the transactions a fault left holding accounts: then they are held forever. */
const HOLD_DEADLINE_MS = 45_000;
/** How long the shop's read side may take to catch up once every saga ended. */
const SHOP_SIDE_DEADLINE_MS = 15_000;
const root = resolve(import.meta.dirname, "../..");
const persistDir = resolve(root, "bench/.state/chaos");
const port = 9500;
const collection = "chaos";
/**
 * The operator secret: at every start the harness signs in (a key made on the fresh state, then checked after
 * each restart: it is in D1, and the new process has to look it up there), and every request carries the key
 * (../lib/credential). The documents are in the key's tenant.
 */
const spec = (chaos: boolean) => ({
  config: "wrangler.toml",
  entry: "bench/chaos/entry.ts",
  migrationsDir: "migrations",
  label: "chaos",
  bindings: {
    LOG_LEVEL: process.env.CHAOS_LOG ?? "off",
    CHAOS_SEED: String(settings.seed),
    ...AUTH_BINDINGS,
    ...timers,
    ...(chaos ? faults : {}),
  },
});

const clock = () => performance.now();
let base = "";
/** When the service last answered anything: a process that dies mid-run shows as a stop in answers. */
let lastAnswer = 0;

async function client(id: number, until: number, ops: Operation[]): Promise<void> {
  const random = seededRandom(settings.seed * 1000 + id);
  let n = 0;
  while (clock() < until) {
    const doc = `doc-${Math.floor(random() * settings.docs)}`;
    const url = `${base}/v1/${collection}/${doc}`;
    if (random() < 0.6) {
      n += 1;
      const value = `c${id}-${n}`;
      const call = clock();
      try {
        const res = await authFetch(url, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ value }),
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await res.json()) as { version?: number };
        const ret = clock();
        lastAnswer = ret;
        const acked = res.ok && typeof body.version === "number";
        ops.push({
          kind: "write",
          client: String(id),
          doc,
          value,
          call,
          ret,
          acked,
          ...(acked ? { version: body.version } : {}),
        });
      } catch {
        ops.push({ kind: "write", client: String(id), doc, value, call, ret: null, acked: false });
      }
    } else {
      const call = clock();
      try {
        const res = await authFetch(url, {
          headers: { consistency: "strong" },
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await res.json()) as { version?: number; data?: { value?: string } };
        const ret = clock();
        lastAnswer = ret;
        if (res.status === 200 && typeof body.version === "number") {
          ops.push({
            kind: "read",
            client: String(id),
            doc,
            call,
            ret,
            version: body.version,
            value: body.data?.value ?? null,
          });
        } else if (res.status === 404) {
          ops.push({ kind: "read", client: String(id), doc, call, ret, version: null, value: null });
        }
      } catch {
        // A read that got no answer says nothing.
      }
    }
  }
}

/** Whether the service answers at all. */
async function answers(): Promise<boolean> {
  try {
    const res = await authFetch(`${base}/v1/_stats`, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

async function logs(): Promise<Map<string, LogEntry[]>> {
  const result = new Map<string, LogEntry[]>();
  for (let i = 0; i < settings.docs; i++) {
    const doc = `doc-${i}`;
    const entries: LogEntry[] = [];
    let after = 0;
    for (;;) {
      const res = await authFetch(`${base}/v1/${collection}/${doc}/_history?after=${after}&limit=1000`);
      if (res.status === 404) {
        await res.arrayBuffer();
        break;
      }
      // Anything else but a page (a 401, say) must fail the run: read as "no history", it would pass it.
      if (!res.ok) throw new Error(`reading ${doc}'s history: ${res.status} ${await res.text()}`);
      const page = (await res.json()) as {
        items: Array<{ version: number; data: { value?: string } | null }>;
        next: number | null;
      };
      for (const e of page.items) entries.push({ version: e.version, value: e.data?.value ?? null });
      if (page.next === null) break;
      after = page.next;
    }
    if (entries.length > 0) result.set(doc, entries);
  }
  return result;
}

interface ReadSide {
  readModel: Map<string, ReadModelRow>;
  feed: Array<{ doc: string; version: number }>;
  feedRows: FeedRow[];
  archived: Array<{ doc: string; version: number }>;
}

/** A field of a state as the checks compare it (null: absent, or of another type). */
const field = (name: string, type: "string" | "number") => (data: Record<string, unknown>) =>
  typeof data[name] === type ? String(data[name]) : null;
/** An order's state, whole: its fields in a fixed order. */
const whole = (data: Record<string, unknown>) => JSON.stringify(data, Object.keys(data).sort());
/** What the checks compare of a state: a chaos document's `value`, an account's balance, a stock, an order. */
const compared: Record<string, (data: Record<string, unknown>) => string | null> = {
  [collection]: field("value", "string"),
  [BANK_COLLECTION]: field("balance", "number"),
  [SHOP_COLLECTIONS.inventory]: field("stock", "number"),
  [SHOP_COLLECTIONS.balances]: field("balance", "number"),
  [SHOP_COLLECTIONS.orders]: whole,
};

/** The read side of both workloads' collections, and the events the projector still holds back. */
async function readSide(system: RunningSystem): Promise<{ sides: Map<string, ReadSide>; held: HeldRow[] }> {
  const db = await system.mf.getD1Database("DB");
  const sides = new Map<string, ReadSide>();
  for (const name of Object.keys(compared)) {
    sides.set(name, { readModel: new Map(), feed: [], feedRows: [], archived: [] });
  }
  const sideOf = (name: string) => sides.get(name);
  const rows = await db
    .prepare("SELECT collection, id, version, deleted, data FROM documents WHERE tenant = ?")
    .bind(HARNESS_TENANT)
    .all<{ collection: string; id: string; version: number; deleted: number; data: string | null }>();
  for (const r of rows.results) {
    const value = compared[r.collection];
    sideOf(r.collection)?.readModel.set(r.id, {
      version: r.version,
      deleted: r.deleted === 1,
      value: r.data === null || value === undefined ? null : value(JSON.parse(r.data)),
    });
  }
  const feed = await db
    .prepare("SELECT seq, collection, id, version, tx_id FROM changes WHERE tenant = ?")
    .bind(HARNESS_TENANT)
    .all<{ seq: number; collection: string; id: string; version: number; tx_id: string | null }>();
  for (const r of feed.results) {
    const side = sideOf(r.collection);
    side?.feed.push({ doc: r.id, version: r.version });
    side?.feedRows.push({ seq: r.seq, doc: r.id, version: r.version, txId: r.tx_id });
  }
  const bucket = await system.mf.getR2Bucket("ARCHIVE");
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: "events/", ...(cursor === undefined ? {} : { cursor }) });
    for (const object of page.objects) {
      const text = await (await bucket.get(object.key))?.text();
      for (const line of (text ?? "").split("\n").filter(Boolean)) {
        const event = JSON.parse(line) as { tenant: string; collection: string; id: string; version: number };
        if (event.tenant === HARNESS_TENANT) {
          sideOf(event.collection)?.archived.push({ doc: event.id, version: event.version });
        }
      }
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor !== undefined);
  const held = await db
    .prepare("SELECT collection, id, version, tx_id, tx_size, body FROM held_events WHERE tenant = ?")
    .bind(HARNESS_TENANT)
    .all<{
      collection: string;
      id: string;
      version: number;
      tx_id: string | null;
      tx_size: number | null;
      body: string;
    }>();
  return {
    sides,
    held: held.results.map((h) => ({
      collection: h.collection,
      doc: h.id,
      version: h.version,
      txId: h.tx_id,
      txSize: h.tx_size,
      txBefore: (JSON.parse(h.body) as { txBefore?: number }).txBefore ?? null,
    })),
  };
}

/** A stock's or balance's history as the read-side checks take it. */
function amountLogs(histories: ReadonlyMap<string, readonly AmountEvent[]>): Map<string, LogEntry[]> {
  return new Map(
    [...histories].map(([id, events]) => [
      id,
      events.map((e) => ({ version: e.version, value: e.value === null ? null : String(e.value) })),
    ]),
  );
}

/** The read model, the change feed and the archive against the workloads' logs. */
function readSideViolations(
  side: { sides: Map<string, ReadSide>; held: HeldRow[] },
  logsOf: ReadonlyMap<string, ReadonlyMap<string, LogEntry[]>>,
): Violation[] {
  const violations: Violation[] = [];
  for (const [name, logs] of logsOf) {
    const s = side.sides.get(name) ?? { readModel: new Map(), feed: [], feedRows: [], archived: [] };
    violations.push(
      ...checkReadModel(logs, s.readModel),
      ...checkFeed(logs, s.feed),
      ...checkArchive(logs, s.archived),
    );
  }
  if (side.held.length > 0) {
    violations.push({
      check: "held-events",
      doc: "*",
      detail: `the projector still holds ${side.held.length} events back (a transaction incomplete in the read model)`,
    });
  }
  return violations;
}

/** How many violations of each kind. */
function kindsOf(violations: readonly Violation[]): string {
  const kinds = new Map<string, number>();
  for (const v of violations) kinds.set(v.check, (kinds.get(v.check) ?? 0) + 1);
  return [...kinds].map(([kind, n]) => `${kind} ${n}`).join(", ");
}

/**
 * The outboxes that reported a backlog (D1 outbox_backlog), how long the latest-due one backs off, and when the
 * pipeline monitor last sent a probe (it probes, and wakes backed-off outboxes, while writes ask it for the lag).
 */
async function backedOff(system: RunningSystem): Promise<string> {
  const db = await system.mf.getD1Database("DB");
  const row = await db
    .prepare(
      "SELECT count(*) AS n, sum(events) AS events, max(retry_at) AS last FROM outbox_backlog WHERE tenant = ?",
    )
    .bind(HARNESS_TENANT)
    .first<{ n: number; events: number | null; last: number | null }>();
  const probe = await db
    .prepare("SELECT max(sent_at) AS at FROM pipeline_probes")
    .first<{ at: number | null }>();
  const monitor =
    probe?.at == null
      ? "the monitor has sent no probe"
      : `the monitor's last probe was sent ${((Date.now() - probe.at) / 1000).toFixed(1)} s ago`;
  if (row === null || row.n === 0) return `no outbox reports a backlog; ${monitor}`;
  const wait = row.last === null ? null : (row.last - Date.now()) / 1000;
  return (
    `${row.n} outboxes report a backlog of ${row.events ?? 0} events` +
    (wait === null || wait <= 0 ? "" : `, the last retry due in ${wait.toFixed(1)} s`) +
    `; ${monitor}`
  );
}

/** The held events that wait for nothing (see heldReady), on this read side. */
function readyButHeld(side: { sides: Map<string, ReadSide>; held: HeldRow[] }): Map<string, string> {
  const feed = new Set<string>();
  for (const [name, s] of side.sides) for (const r of s.feed) feed.add(`${name}/${r.doc}@${r.version}`);
  return heldReady(side.held, (name, doc, version) => feed.has(`${name}/${doc}@${version}`));
}

async function main(): Promise<void> {
  const script = bundle(
    { config: "wrangler.toml", entry: "bench/chaos/entry.ts" },
    resolve(root, "bench/.out/chaos"),
  );
  let system = await start(spec(true), script, { port, persistDir, fresh: true });
  base = system.url;
  console.log(
    `chaos: ${settings.clients} clients, ${settings.docs} documents, ${settings.seconds} s, seed ${settings.seed}; ` +
      `bank: ${settings.bankClients} clients, ${settings.accounts} accounts; ` +
      `shop: ${settings.sagaClients} clients, ${settings.sagas} sagas, 3 SKUs of ${settings.stock}, 4 balances of ${settings.balance}`,
  );
  console.log(
    `faults: ${Object.entries(faults)
      .map(([k, v]) => `${k.replace("CHAOS_", "").toLowerCase()} ${v}`)
      .join(", ")}; recovery alarm ${timers.CHAOS_RECOVERY_MS} ms, lease ${timers.CHAOS_LEASE_MS} ms`,
  );
  const bank = new Bank(
    { accounts: settings.accounts, initial: 1000, seed: settings.seed },
    () => base,
    () => {
      lastAnswer = clock();
    },
  );
  const shop = new Shop(
    {
      skus: 3,
      stock: settings.stock,
      customers: 4,
      balance: settings.balance,
      sagas: settings.sagas,
      clients: settings.sagaClients,
      seed: settings.seed,
    },
    () => base,
    () => {
      lastAnswer = clock();
    },
  );
  await Promise.all([bank.open(), shop.open()]);
  // Its accounts in the read model before the clients start (a few seconds at most: the sampler checks from then).
  await bank.visible(3_000);

  const ops: Operation[] = [];
  const started = clock();
  const until = started + settings.seconds * 1000;
  const clients = [
    ...Array.from({ length: settings.clients }, (_, i) => client(i, until, ops)),
    ...Array.from({ length: settings.bankClients }, (_, i) => bank.client(i, until)),
    bank.sampler(() => clock() < until),
    ...Array.from({ length: settings.sagaClients }, (_, i) => shop.client(i, until)),
    shop.sampler(() => clock() < until),
  ];
  // Halfway, the whole process goes down and comes back with the same state on disk.
  await new Promise((r) => setTimeout(r, (settings.seconds * 1000) / 2));
  await system.stop();
  console.log("restart: the process is down");
  system = await start(spec(true), script, { port, persistDir, fresh: false });
  console.log("restart: back up with its state");
  // The sagas under way when it stopped resume (Cloudflare's engine resumes them itself; see ./sagas).
  await shop.wake();
  await Promise.all(clients);
  // A runtime that crashed (workerd has segfaulted here once, after the restart) leaves the clients without
  // answers: said plainly, since the run then exercised less than it claims. The drain starts it again.
  if (!(await answers())) {
    console.log(
      `warning: the service stopped answering ${((until - lastAnswer) / 1000).toFixed(1)} s before the clients ` +
        "stopped (its process died: see the runtime's log above); the drain starts it again",
    );
  }

  // Drain: faults off, the outbox alarms and queue retries deliver what is left; dead letters are redriven.
  const drainBegan = clock();
  await system.stop();
  system = await start(spec(false), script, { port, persistDir, fresh: false });
  const drainStart = clock();
  await shop.wake();
  const restarted = await shop.finishStarts(10_000);
  if (restarted > 0) console.log(`drain: ${restarted} saga starts the run left unanswered were sent again`);
  // Every saga ends while the drain runs: their outcomes are read once the read side converged.
  const sagasEnded = shop.settle(settings.sagaSeconds * 1000 - (clock() - drainBegan));
  // Transactions a fault interrupted hold their accounts until their coordinator (or a lease) finishes them.
  const finalBalances = await bank.settle(HOLD_DEADLINE_MS);
  const settled = (clock() - drainStart) / 1000;
  if (settled > 5) console.log(`drain: ${settled.toFixed(1)} s until no transaction held an account`);
  const history = await logs();
  const accountHistories = await bank.histories();
  const accountLogs = new Map(
    [...accountHistories].map(([account, events]) => [
      account,
      events.map((e) => ({ version: e.version, value: e.balance === null ? null : String(e.balance) })),
    ]),
  );
  const logsOf = new Map([
    [collection, history],
    [BANK_COLLECTION, accountLogs],
  ]);
  let violations: Violation[] = [];
  let side = await readSide(system);
  let converged = false;
  // The projector applies what it held back while the drain runs: each query of the accounts adds up too.
  let draining = true;
  const sampling = bank.sampler(() => draining);
  // Held events that wait for nothing, in two rounds in a row (a second apart): the projector forgot them.
  let ready = new Map<string, string>();
  const stuck = new Map<string, Violation>();
  while (clock() - drainStart < settings.drainSeconds * 1000) {
    side = await readSide(system);
    violations = readSideViolations(side, logsOf);
    const readyNow = readyButHeld(side);
    for (const [key, detail] of readyNow) {
      if (ready.get(key) === detail && !stuck.has(detail)) {
        stuck.set(detail, {
          check: "held-ready",
          doc: key,
          detail: `${detail}, yet the projector still holds it ${((clock() - drainStart) / 1000).toFixed(1)} s into the drain`,
        });
      }
    }
    ready = readyNow;
    if (violations.length === 0) {
      converged = true;
      break;
    }
    // The drain can take a minute (objects whose polls backed off during the faults ask again only when due).
    console.log(
      `drain: ${((clock() - drainStart) / 1000).toFixed(1)} s, ${violations.length} differences left between the logs and the read side ` +
        `(${kindsOf(violations)}); ${await backedOff(system)}`,
    );
    const redrive = await authFetch(`${base}/v1/_admin/dead-letters/redrive`, { method: "POST" });
    // A 503 (the queue refused the redrive) is retried with the next round; a refused credential is a harness bug.
    if (redrive.status === 401 || redrive.status === 403) {
      throw new Error(`redrive: ${redrive.status} ${await redrive.text()}`);
    }
    await redrive.arrayBuffer();
    await new Promise((r) => setTimeout(r, 1000));
  }
  const convergeSeconds = (clock() - drainStart) / 1000;
  const convergeSinceBegan = (clock() - drainBegan) / 1000;
  draining = false;
  await sampling;

  // The shop: every saga's outcome against the histories, then the read side of its documents.
  const sagasEndedMs = await sagasEnded;
  const endedSeconds = sagasEndedMs === null ? null : (drainStart - drainBegan + sagasEndedMs) / 1000;
  const shopState = await shop.state();
  const sagaCheck = checkSagas(shop.spec, shop.orders, shopState);
  const shopLogs = new Map([
    [SHOP_COLLECTIONS.inventory, amountLogs(shopState.inventory)],
    [SHOP_COLLECTIONS.balances, amountLogs(shopState.balances)],
    [
      SHOP_COLLECTIONS.orders,
      new Map(
        [...shopState.orders].map(([id, events]) => [
          id,
          events.map((e) => ({ version: e.version, value: e.data === null ? null : whole(e.data) })),
        ]),
      ),
    ],
  ]);
  const shopSideBegan = clock();
  let shopSide: Violation[] = [];
  for (;;) {
    shopSide = readSideViolations(await readSide(system), shopLogs);
    if (shopSide.length === 0 || clock() - shopSideBegan > SHOP_SIDE_DEADLINE_MS) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const shopSideSeconds = (clock() - shopSideBegan) / 1000;
  violations = [
    ...checkLinearizability(ops, history),
    ...violations,
    ...bank.violations,
    ...checkBank(bank.spec, bank.transfers, accountHistories, finalBalances),
    ...checkFeedTransactions(side.sides.get(BANK_COLLECTION)?.feedRows ?? [], accountHistories),
    ...stuck.values(),
    ...shop.violations,
    ...sagaCheck.violations,
    ...shopSide,
  ];
  if (converged && convergeSinceBegan > settings.convergeBound) {
    violations.push({
      check: "convergence-bound",
      doc: "*",
      detail: `the read side converged ${convergeSinceBegan.toFixed(1)} s after the drain began (its restart included); the bound is ${settings.convergeBound} s`,
    });
  }
  const summary = summarize(ops, history);
  await system.stop();

  const reads = ops.filter((o) => o.kind === "read").length;
  const unanswered = ops.filter((o) => o.kind === "write" && o.ret === null).length;
  console.log(
    `operations ${summary.operations} (reads ${reads}), acknowledged ${summary.acknowledged}, ` +
      `writes unanswered ${unanswered}, lost ${summary.lost}, ` +
      `duplicated ${summary.duplicated}, unacknowledged but applied ${summary.unacknowledgedApplied}, ` +
      `events ${[...history.values()].reduce((n, l) => n + l.length, 0)}, ` +
      `converged ${
        converged
          ? `in ${convergeSeconds.toFixed(1)} s (${convergeSinceBegan.toFixed(1)} s after the drain began, restart included; bound ${settings.convergeBound} s)`
          : `NOT within ${settings.drainSeconds} s`
      }`,
  );
  const counts = bank.counts();
  const applied = new Set(
    [...accountHistories.values()].flat().flatMap((e) => (e.txId === null ? [] : [e.txId])),
  );
  const unansweredApplied = bank.transfers.filter(
    (t) => t.outcome === "unanswered" && applied.has(t.txId),
  ).length;
  const sum = [...finalBalances.values()].reduce((n, b) => n + b.balance, 0);
  console.log(
    `bank: transfers committed ${counts.committed}, aborted by bound ${counts.bound}, conflicts ${counts.conflict}, ` +
      `unavailable ${counts.unavailable}, unanswered ${counts.unanswered} (applied ${unansweredApplied}); ` +
      `sampled ${bank.sampled.full} queries of all accounts, ${bank.sampled.strong} strong reads ` +
      `(${bank.sampled.locked} locked); final balances add up to ${sum}`,
  );
  const sagas = sagaCheck.counts;
  const wakes = shop.wakes
    .map(
      (w) =>
        w.error ??
        `${w.woken} woken (${Object.entries(w.states)
          .map(([k, n]) => `${n} ${k}`)
          .join(", ")}), ${w.missing} without an instance`,
    )
    .join("; ");
  // How long sagas took, from their record's creation to their end; why the compensated ones were undone.
  const took = shop.orders
    .flatMap((o) =>
      o.final?.finishedAt == null || o.final.createdAt === undefined
        ? []
        : [Date.parse(o.final.finishedAt) - Date.parse(o.final.createdAt)],
    )
    .sort((a, b) => a - b);
  // How the starts were answered, besides their 202s.
  const answered = new Map<string, number>();
  for (const o of shop.orders) {
    for (const a of o.answers) if (a !== "202") answered.set(a, (answered.get(a) ?? 0) + 1);
  }
  const why = new Map<string, number>();
  for (const o of shop.orders) {
    if (o.final?.status !== "compensated") continue;
    const step = o.final.reason?.split(":")[0] ?? "?";
    why.set(step, (why.get(step) ?? 0) + 1);
  }
  console.log(
    `sagas: ${shop.orders.length} started, completed ${sagas.completed}, compensated ${sagas.compensated}, ` +
      `failed ${sagas.failed}, not terminal ${sagas.stuck}, never started ${sagas.notStarted}; ` +
      `compensated at ${[...why].map(([step, n]) => `${step} ${n}`).join(", ") || "none"}; ` +
      `starts also answered ${[...answered].map(([a, n]) => `${a} x${n}`).join(", ") || "nothing else"}; ` +
      `each took ${took.length === 0 ? "?" : `${took[Math.floor(took.length / 2)]} ms median, ${took.at(-1)} ms at most`}; ` +
      `all terminal ${endedSeconds === null ? `NOT within ${settings.sagaSeconds} s` : `${endedSeconds.toFixed(1)} s after the drain began`}; ` +
      `stock left ${shop.spec.skus.map((sku) => shopState.stock.get(sku)).join("/")} of ${shop.spec.stock} each; ` +
      `${shop.sampled.strong} strong reads; after restarts: ${wakes}; ` +
      `shop read side ${shopSide.length === 0 ? `converged in ${shopSideSeconds.toFixed(1)} s more` : "NOT converged"}`,
  );
  const proved =
    summary.acknowledged > 0 &&
    counts.committed > 0 &&
    bank.sampled.full > 0 &&
    sagas.completed > 0 &&
    sagas.compensated > 0;
  if (violations.length > 0 || !proved) {
    // Up to five of each kind, so that a frequent kind hides no other.
    const kinds = new Map<string, Violation[]>();
    for (const v of violations) kinds.set(v.check, [...(kinds.get(v.check) ?? []), v]);
    for (const [check, found] of kinds) {
      for (const v of found.slice(0, 5)) console.log(`VIOLATION ${v.check} ${v.doc}: ${v.detail}`);
      if (found.length > 5) console.log(`... and ${found.length - 5} more ${check}`);
    }
    if (summary.acknowledged === 0)
      console.log("VIOLATION: no write was acknowledged; the run proves nothing");
    if (counts.committed === 0) console.log("VIOLATION: no transfer committed; the bank proves nothing");
    if (bank.sampled.full === 0)
      console.log("VIOLATION: no query showed every account; the sums were never checked");
    if (sagas.completed === 0 || sagas.compensated === 0)
      console.log("VIOLATION: no saga completed, or none compensated; the shop proves little");
    console.log("verdict: FAIL");
    process.exit(1);
  }
  console.log("verdict: PASS");
}

if (process.argv.includes("--admission")) await admissionDemo();
else await main();
