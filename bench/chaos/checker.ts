/**
 * Consistency checker for the chaos harness.
 *
 * Pure TypeScript: no Node or Workers APIs, so the Node harness and the workerd tests can both import it.
 *
 * The model: each document is a register whose writes are totally ordered by the version its Durable Object
 * assigns (the event log, `logs`). The recorded history (`ops`) says when each client called and when (if
 * ever) it got a response. The checker verifies the log against the history:
 *
 * - `versions`        each log is exactly versions 1..N (unique, gap-free)
 * - `lost-write`      every acknowledged write is in its document's log, at the version it was acknowledged with
 * - `duplicate`       no value is at more than one version of a log
 * - `phantom`         every value in a log was written by a recorded write to that document
 * - `real-time`       an acknowledged write that returned before another was called has the lower version
 * - `stale-read`      a read is not older than any write acknowledged before the read was called
 * - `future-read`     a read's version exists, holds the value the read returned, and was written by a write
 *                     called before the read returned
 * - `linearizability` catch-all, run per document when the checks above found no ordering problem there: places
 *                     every write and read at a point inside its [call, ret] interval, in log order, or reports
 *                     the first operation that cannot be placed (e.g. two reads that observe versions in an order
 *                     that contradicts real time). Together with the checks above this decides linearizability of
 *                     the history given the log's write order.
 * - `history`         the recorded history itself is malformed (a harness bug, not a service bug)
 *
 * Conventions the harness must follow:
 * - times are numbers from one clock (e.g. `performance.now()` in one process); `a.ret < b.call` means a finished
 *   before b started; equal times count as concurrent;
 * - write values are unique across the whole history;
 * - `acked` is true iff a 2xx came back, and then `ret` and `version` are set; any other outcome (error status,
 *   timeout, crash) is `acked: false`. An unacknowledged write may or may not have taken effect, at any time after
 *   its call (a 5xx can come back while the write is still in flight), so it never counts as lost;
 * - only reads that got a response are recorded; a 404 is `version: null, value: null`;
 * - deletes may appear in logs (`value: null`) without a recorded operation: they are not phantoms, a 404 read
 *   may be explained by any of them, and the `linearizability` pass skips 404 reads of documents that have them.
 *
 * Everything is O(n log n) in the number of operations and log entries.
 */

export interface WriteOp {
  kind: "write";
  client: string;
  doc: string;
  /** unique per write */
  value: string;
  call: number;
  /** null: no response (crash/timeout) */
  ret: number | null;
  /** true iff a 2xx came back */
  acked: boolean;
  /** from the response when acked */
  version?: number;
}

export interface ReadOp {
  kind: "read";
  client: string;
  doc: string;
  call: number;
  ret: number;
  /** null: 404 */
  version: number | null;
  value: string | null;
}

export type Operation = WriteOp | ReadOp;

export interface LogEntry {
  version: number;
  /** null for a delete */
  value: string | null;
}

export interface Violation {
  check: string;
  doc: string;
  detail: string;
}

export interface ReadModelRow {
  version: number;
  value: string | null;
  deleted: boolean;
}

export interface Summary {
  operations: number;
  /** writes that got a 2xx */
  acknowledged: number;
  /** acknowledged writes missing from the log or at another version than acknowledged (= `lost-write` count) */
  lost: number;
  /** recorded writes whose value is at more than one version of their document's log */
  duplicated: number;
  /** unacknowledged writes that nevertheless took effect (are in the log) */
  unacknowledgedApplied: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Indexes

interface LogIndex {
  entries: readonly LogEntry[];
  /** version -> entries at that version (more than one only in a broken log) */
  byVersion: Map<number, LogEntry[]>;
  /** value -> versions it appears at, ascending */
  versionsOf: Map<string, number[]>;
  /** versions of deletes, ascending */
  deletes: number[];
}

interface DocOps {
  writes: WriteOp[];
  reads: ReadOp[];
}

const EMPTY_LOG: readonly LogEntry[] = [];

function indexLog(entries: readonly LogEntry[]): LogIndex {
  const byVersion = new Map<number, LogEntry[]>();
  const versionsOf = new Map<string, number[]>();
  const deletes: number[] = [];
  for (const entry of entries) {
    const atVersion = byVersion.get(entry.version);
    if (atVersion) atVersion.push(entry);
    else byVersion.set(entry.version, [entry]);
    if (entry.value === null) {
      deletes.push(entry.version);
    } else {
      const versions = versionsOf.get(entry.value);
      if (versions) versions.push(entry.version);
      else versionsOf.set(entry.value, [entry.version]);
    }
  }
  for (const versions of versionsOf.values()) versions.sort(byNumber);
  deletes.sort(byNumber);
  return { entries, byVersion, versionsOf, deletes };
}

function groupByDoc(ops: readonly Operation[]): Map<string, DocOps> {
  const docs = new Map<string, DocOps>();
  for (const op of ops) {
    let group = docs.get(op.doc);
    if (!group) {
      group = { writes: [], reads: [] };
      docs.set(op.doc, group);
    }
    if (op.kind === "write") group.writes.push(op);
    else group.reads.push(op);
  }
  return docs;
}

function byNumber(a: number, b: number): number {
  return a - b;
}

function sortedKeys(...maps: ReadonlyArray<ReadonlyMap<string, unknown>>): string[] {
  const keys = new Set<string>();
  for (const map of maps) for (const key of map.keys()) keys.add(key);
  return [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function describeWrite(w: WriteOp): string {
  const outcome = w.acked
    ? `acked${w.version === undefined ? "" : ` v${w.version}`}`
    : w.ret === null
      ? "no response"
      : "not acked";
  return `write ${JSON.stringify(w.value)} by ${w.client} [call ${w.call}, ret ${w.ret ?? "none"}, ${outcome}]`;
}

function describeRead(r: ReadOp): string {
  const result = r.version === null ? "404" : `v${r.version} ${JSON.stringify(r.value)}`;
  return `read by ${r.client} [call ${r.call}, ret ${r.ret}] -> ${result}`;
}

function describeVersions(versions: readonly number[]): string {
  return versions.length === 1 ? `version ${versions[0]}` : `versions ${versions.join(", ")}`;
}

// ---------------------------------------------------------------------------------------------------------------
// checkLinearizability

export function checkLinearizability(ops: Operation[], logs: ReadonlyMap<string, LogEntry[]>): Violation[] {
  const violations: Violation[] = [];
  const writerOf = new Map<string, WriteOp>();
  checkHistory(ops, writerOf, violations);

  const grouped = groupByDoc(ops);
  for (const doc of sortedKeys(grouped, logs)) {
    const docOps = grouped.get(doc) ?? { writes: [], reads: [] };
    const index = indexLog(logs.get(doc) ?? EMPTY_LOG);
    checkDoc(doc, docOps, index, writerOf, violations);
  }
  return violations;
}

/** Malformed histories are reported (as harness bugs) and the first write of each value is the one used. */
function checkHistory(ops: readonly Operation[], writerOf: Map<string, WriteOp>, out: Violation[]): void {
  for (const op of ops) {
    if (op.kind === "write") {
      const earlier = writerOf.get(op.value);
      if (earlier) {
        out.push({
          check: "history",
          doc: op.doc,
          detail: `value ${JSON.stringify(op.value)} is written twice (${describeWrite(earlier)} on ${earlier.doc}; ${describeWrite(op)}): values must be unique`,
        });
      } else {
        writerOf.set(op.value, op);
      }
      if (op.acked && op.ret === null) {
        out.push({
          check: "history",
          doc: op.doc,
          detail: `${describeWrite(op)} is acked but has no ret time`,
        });
      }
      if (op.acked && op.version === undefined) {
        out.push({
          check: "history",
          doc: op.doc,
          detail: `${describeWrite(op)} is acked but has no version`,
        });
      }
      if (op.ret !== null && op.ret < op.call) {
        out.push({
          check: "history",
          doc: op.doc,
          detail: `${describeWrite(op)} returned before it was called`,
        });
      }
    } else {
      if (op.ret < op.call) {
        out.push({
          check: "history",
          doc: op.doc,
          detail: `${describeRead(op)} returned before it was called`,
        });
      }
      if ((op.version === null) !== (op.value === null)) {
        out.push({
          check: "history",
          doc: op.doc,
          detail: `${describeRead(op)}: version and value must both be null (404) or both be set`,
        });
      }
    }
  }
}

/** A write's version for ordering checks: the acknowledged one, else where the log has its value. */
function versionOfWrite(w: WriteOp, index: LogIndex): number | undefined {
  return w.version ?? index.versionsOf.get(w.value)?.[0];
}

function checkDoc(
  doc: string,
  { writes, reads }: DocOps,
  index: LogIndex,
  writerOf: ReadonlyMap<string, WriteOp>,
  out: Violation[],
): void {
  const wellFormed = checkVersions(doc, index, out);
  checkLostWrites(doc, writes, index, out);
  checkDuplicates(doc, index, writerOf, out);
  checkPhantoms(doc, index, writerOf, out);

  const timing = out.length;
  // Acknowledged writes with a response and a version, sorted by ret: the "already happened" sweep.
  const acked: Array<{ op: WriteOp; ret: number; version: number }> = [];
  for (const w of writes) {
    const version = versionOfWrite(w, index);
    if (w.acked && w.ret !== null && version !== undefined) acked.push({ op: w, ret: w.ret, version });
  }
  acked.sort((a, b) => a.ret - b.ret);
  checkRealTime(doc, acked, out);
  const readLowerBound = checkStaleReads(doc, reads, acked, index, out);
  checkFutureReads(doc, reads, index, writerOf, out);

  if (wellFormed && out.length === timing) {
    checkPlacement(doc, reads, readLowerBound, index, writerOf, out);
  }
}

/** `versions`: exactly 1..N. Returns whether the log is well formed. */
function checkVersions(doc: string, index: LogIndex, out: Violation[]): boolean {
  const before = out.length;
  const counts = new Map<number, number>();
  for (const entry of index.entries) {
    if (!Number.isInteger(entry.version) || entry.version < 1) {
      out.push({
        check: "versions",
        doc,
        detail: `log has invalid version ${entry.version} (value ${JSON.stringify(entry.value)})`,
      });
      continue;
    }
    counts.set(entry.version, (counts.get(entry.version) ?? 0) + 1);
  }
  const unique = [...counts.keys()].sort(byNumber);
  let previous = 0;
  for (const version of unique) {
    if (version > previous + 1) {
      const missing = version === previous + 2 ? `${previous + 1}` : `${previous + 1}..${version - 1}`;
      out.push({
        check: "versions",
        doc,
        detail: `log is missing version ${missing} (next present: ${version})`,
      });
    }
    const count = counts.get(version) ?? 0;
    if (count > 1) {
      const values = (index.byVersion.get(version) ?? []).map((e) => JSON.stringify(e.value));
      out.push({
        check: "versions",
        doc,
        detail: `version ${version} appears ${count} times in the log (values ${values.join(", ")})`,
      });
    }
    previous = version;
  }
  return out.length === before;
}

/** `lost-write`: acknowledged writes are in the log, at the acknowledged version. Unacknowledged ones never count. */
function checkLostWrites(doc: string, writes: readonly WriteOp[], index: LogIndex, out: Violation[]): void {
  for (const w of writes) {
    if (!w.acked) continue;
    const versions = index.versionsOf.get(w.value);
    if (!versions) {
      out.push({ check: "lost-write", doc, detail: `${describeWrite(w)} is missing from the log` });
    } else if (w.version !== undefined && !versions.includes(w.version)) {
      const there = index.byVersion.get(w.version)?.map((e) => JSON.stringify(e.value));
      out.push({
        check: "lost-write",
        doc,
        detail: `${describeWrite(w)} is in the log at ${describeVersions(versions)}, not at the acknowledged version ${w.version} (which holds ${there ? there.join(", ") : "nothing"})`,
      });
    }
  }
}

/** `duplicate`: a value at more than one version. */
function checkDuplicates(
  doc: string,
  index: LogIndex,
  writerOf: ReadonlyMap<string, WriteOp>,
  out: Violation[],
): void {
  for (const [value, versions] of index.versionsOf) {
    if (versions.length < 2) continue;
    const writer = writerOf.get(value);
    const who = writer ? describeWrite(writer) : `value ${JSON.stringify(value)}`;
    out.push({
      check: "duplicate",
      doc,
      detail: `${who} appears at ${describeVersions(versions)} of the log`,
    });
  }
}

/** `phantom`: a value in the log that no recorded write to this document wrote. */
function checkPhantoms(
  doc: string,
  index: LogIndex,
  writerOf: ReadonlyMap<string, WriteOp>,
  out: Violation[],
): void {
  for (const [value, versions] of index.versionsOf) {
    const writer = writerOf.get(value);
    if (writer && writer.doc === doc) continue;
    const origin = writer ? ` (it was written to document ${JSON.stringify(writer.doc)})` : "";
    out.push({
      check: "phantom",
      doc,
      detail: `log ${describeVersions(versions)} holds ${JSON.stringify(value)}, which no recorded write to this document wrote${origin}`,
    });
  }
}

/** `real-time`: A.ret < B.call implies A.version < B.version, for acknowledged writes. */
function checkRealTime(
  doc: string,
  ackedByRet: ReadonlyArray<{ op: WriteOp; ret: number; version: number }>,
  out: Violation[],
): void {
  const byCall = [...ackedByRet].sort((a, b) => a.op.call - b.op.call);
  let next = 0;
  let highest: { op: WriteOp; version: number } | undefined;
  for (const b of byCall) {
    for (let a = ackedByRet[next]; a !== undefined && a.ret < b.op.call; a = ackedByRet[++next]) {
      if (!highest || a.version > highest.version) highest = a;
    }
    if (highest && highest.op !== b.op && highest.version >= b.version) {
      out.push({
        check: "real-time",
        doc,
        detail: `${describeWrite(b.op)} got version ${b.version}, but ${describeWrite(highest.op)} returned before it was called with version ${highest.version}`,
      });
    }
  }
}

/**
 * `stale-read`: a read is at least as new as every write acknowledged before it was called.
 * Returns, per read, the version a 404 stands for (for the placement pass): the lowest absent version (0 or a
 * delete) that is not stale.
 */
function checkStaleReads(
  doc: string,
  reads: readonly ReadOp[],
  ackedByRet: ReadonlyArray<{ op: WriteOp; ret: number; version: number }>,
  index: LogIndex,
  out: Violation[],
): Map<ReadOp, number> {
  const absentAs = new Map<ReadOp, number>();
  const byCall = [...reads].sort((a, b) => a.call - b.call);
  let next = 0;
  let highest: { op: WriteOp; version: number } | undefined;
  for (const r of byCall) {
    for (let a = ackedByRet[next]; a !== undefined && a.ret < r.call; a = ackedByRet[++next]) {
      if (!highest || a.version > highest.version) highest = a;
    }
    if (r.version !== null) {
      if (highest && r.version < highest.version) {
        out.push({
          check: "stale-read",
          doc,
          detail: `${describeRead(r)} is older than ${describeWrite(highest.op)}, which was acknowledged with version ${highest.version} before the read was called`,
        });
      }
      continue;
    }
    const absent = highest && highest.version > 0 ? firstAtLeast(index.deletes, highest.version) : 0;
    if (highest && absent === undefined) {
      const deletes = index.deletes.length > 0 ? ` (deletes at ${index.deletes.join(", ")})` : "";
      out.push({
        check: "stale-read",
        doc,
        detail: `${describeRead(r)} is older than ${describeWrite(highest.op)}, which was acknowledged with version ${highest.version} before the read was called${deletes}`,
      });
    } else if (absent !== undefined) {
      absentAs.set(r, absent);
    }
  }
  return absentAs;
}

/** The first element of an ascending array that is >= bound. */
function firstAtLeast(sorted: readonly number[], bound: number): number | undefined {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] ?? Number.POSITIVE_INFINITY) < bound) low = mid + 1;
    else high = mid;
  }
  return sorted[low];
}

/** `future-read`: the version read exists, holds the value read, and was written by a write called before ret. */
function checkFutureReads(
  doc: string,
  reads: readonly ReadOp[],
  index: LogIndex,
  writerOf: ReadonlyMap<string, WriteOp>,
  out: Violation[],
): void {
  for (const r of reads) {
    if (r.version === null) continue;
    const entries = index.byVersion.get(r.version);
    if (!entries) {
      out.push({
        check: "future-read",
        doc,
        detail: `${describeRead(r)}: the log has no version ${r.version} (it has ${index.entries.length} entries)`,
      });
      continue;
    }
    const entry = entries.find((e) => e.value === r.value);
    if (!entry) {
      const logged = entries.map((e) => (e.value === null ? "a delete" : JSON.stringify(e.value))).join(", ");
      out.push({
        check: "future-read",
        doc,
        detail: `${describeRead(r)}: the log has ${logged} at version ${r.version}`,
      });
      continue;
    }
    const writer = entry.value === null ? undefined : writerOf.get(entry.value);
    if (writer && writer.doc === doc && r.ret < writer.call) {
      out.push({
        check: "future-read",
        doc,
        detail: `${describeRead(r)} returned before the write of that version was called: ${describeWrite(writer)}`,
      });
    }
  }
}

/**
 * `linearizability`: choose, greedily and as early as possible, a point for every write in log order and every
 * read between the write of its version and the next one, each inside its own [call, ret] interval. Earliest
 * choices only loosen later constraints, so if the greedy placement fails no placement exists.
 */
function checkPlacement(
  doc: string,
  reads: readonly ReadOp[],
  absentAs: ReadonlyMap<ReadOp, number>,
  index: LogIndex,
  writerOf: ReadonlyMap<string, WriteOp>,
  out: Violation[],
): void {
  const readsOf = new Map<number, ReadOp[]>();
  for (const r of reads) {
    let version: number | undefined;
    if (r.version !== null) version = r.version;
    else if (index.deletes.length === 0) version = absentAs.get(r);
    if (version === undefined) continue;
    const group = readsOf.get(version);
    if (group) group.push(r);
    else readsOf.set(version, [r]);
  }

  const count = index.entries.length;
  let frontier = Number.NEGATIVE_INFINITY;
  let because = "";
  for (let version = 0; version <= count; version++) {
    if (version > 0) {
      const value = index.byVersion.get(version)?.[0]?.value ?? null;
      const writer = value === null ? undefined : writerOf.get(value);
      if (writer && writer.doc === doc) {
        const latest = writer.acked && writer.ret !== null ? writer.ret : Number.POSITIVE_INFINITY;
        if (latest < frontier) {
          out.push({
            check: "linearizability",
            doc,
            detail: `${describeWrite(writer)} wrote version ${version}, which cannot have taken effect before ${frontier}: ${because}`,
          });
          return;
        }
        if (writer.call > frontier) {
          frontier = writer.call;
          because = `${describeWrite(writer)} wrote version ${version}`;
        }
      }
    }
    const observers = readsOf.get(version) ?? [];
    for (const r of observers) {
      if (r.ret < frontier) {
        out.push({
          check: "linearizability",
          doc,
          detail: `${describeRead(r)} observed version ${version}, which cannot have been current before ${frontier}: ${because}`,
        });
        return;
      }
    }
    for (const r of observers) {
      if (r.call > frontier) {
        frontier = r.call;
        because = `${describeRead(r)} observed version ${version}, so version ${version + 1} came after ${r.call}`;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Read side

function lastEntry(entries: readonly LogEntry[]): LogEntry | undefined {
  let last: LogEntry | undefined;
  for (const entry of entries) if (!last || entry.version > last.version) last = entry;
  return last;
}

/** The read model (after convergence) holds, for every document, the log's last version. */
export function checkReadModel(
  logs: ReadonlyMap<string, LogEntry[]>,
  readModel: ReadonlyMap<string, ReadModelRow>,
): Violation[] {
  const violations: Violation[] = [];
  for (const doc of sortedKeys(logs, readModel)) {
    const last = lastEntry(logs.get(doc) ?? EMPTY_LOG);
    const row = readModel.get(doc);
    if (!last) {
      if (row) {
        violations.push({
          check: "read-model-unknown",
          doc,
          detail: `read model has version ${row.version} of a document with no log entries`,
        });
      }
      continue;
    }
    if (!row) {
      violations.push({
        check: "read-model-missing",
        doc,
        detail: `read model has no row; the log is at version ${last.version}`,
      });
    } else if (row.version < last.version) {
      violations.push({
        check: "read-model-behind",
        doc,
        detail: `read model is at version ${row.version}; the log is at version ${last.version}`,
      });
    } else if (row.version > last.version) {
      violations.push({
        check: "read-model-ahead",
        doc,
        detail: `read model is at version ${row.version}; the log only goes to version ${last.version}`,
      });
    } else if (row.deleted !== (last.value === null)) {
      violations.push({
        check: "read-model-mismatch",
        doc,
        detail: `read model says version ${row.version} is ${row.deleted ? "deleted" : "not deleted"}; the log has ${last.value === null ? "a delete" : JSON.stringify(last.value)}`,
      });
    } else if (last.value !== null && row.value !== last.value) {
      violations.push({
        check: "read-model-mismatch",
        doc,
        detail: `read model has ${JSON.stringify(row.value)} at version ${row.version}; the log has ${JSON.stringify(last.value)}`,
      });
    }
  }
  return violations;
}

interface Counted {
  doc: string;
  version: number;
  count: number;
}

function countEntries(entries: ReadonlyArray<{ doc: string; version: number }>): Map<string, Counted> {
  const counts = new Map<string, Counted>();
  for (const { doc, version } of entries) {
    const key = JSON.stringify([doc, version]);
    const counted = counts.get(key);
    if (counted) counted.count++;
    else counts.set(key, { doc, version, count: 1 });
  }
  return counts;
}

/** Missing and unknown (doc, version) pairs, shared by the feed and archive checks. */
function compareToLogs(
  logs: ReadonlyMap<string, LogEntry[]>,
  counts: ReadonlyMap<string, Counted>,
  prefix: string,
  where: string,
  out: Violation[],
): void {
  const known = new Set<string>();
  for (const doc of sortedKeys(logs)) {
    const versions = (logs.get(doc) ?? []).map((e) => e.version).sort(byNumber);
    const missing: number[] = [];
    for (const version of versions) {
      const key = JSON.stringify([doc, version]);
      known.add(key);
      if (!counts.has(key)) missing.push(version);
    }
    if (missing.length > 0) {
      out.push({ check: `${prefix}-missing`, doc, detail: `${where} lacks ${describeVersions(missing)}` });
    }
  }
  const unknown = [...counts.values()].filter((c) => !known.has(JSON.stringify([c.doc, c.version])));
  unknown.sort((a, b) => (a.doc < b.doc ? -1 : a.doc > b.doc ? 1 : a.version - b.version));
  for (const c of unknown) {
    out.push({
      check: `${prefix}-unknown`,
      doc: c.doc,
      detail: `${where} has version ${c.version}, which is not in the log`,
    });
  }
}

/** The change feed has each (doc, version) of the logs exactly once, and nothing else. */
export function checkFeed(
  logs: ReadonlyMap<string, LogEntry[]>,
  feed: ReadonlyArray<{ doc: string; version: number }>,
): Violation[] {
  const violations: Violation[] = [];
  const counts = countEntries(feed);
  compareToLogs(logs, counts, "feed", "change feed", violations);
  for (const c of counts.values()) {
    if (c.count > 1) {
      violations.push({
        check: "feed-duplicate",
        doc: c.doc,
        detail: `change feed has version ${c.version} ${c.count} times`,
      });
    }
  }
  return violations;
}

/** The archive has every (doc, version) of the logs at least once (it is at-least-once), and nothing else. */
export function checkArchive(
  logs: ReadonlyMap<string, LogEntry[]>,
  archived: ReadonlyArray<{ doc: string; version: number }>,
): Violation[] {
  const violations: Violation[] = [];
  compareToLogs(logs, countEntries(archived), "archive", "archive", violations);
  return violations;
}

// ---------------------------------------------------------------------------------------------------------------
// Summary

export function summarize(ops: Operation[], logs: ReadonlyMap<string, LogEntry[]>): Summary {
  const indexes = new Map<string, LogIndex>();
  const indexOf = (doc: string): LogIndex => {
    let index = indexes.get(doc);
    if (!index) {
      index = indexLog(logs.get(doc) ?? EMPTY_LOG);
      indexes.set(doc, index);
    }
    return index;
  };
  const summary: Summary = {
    operations: ops.length,
    acknowledged: 0,
    lost: 0,
    duplicated: 0,
    unacknowledgedApplied: 0,
  };
  for (const op of ops) {
    if (op.kind !== "write") continue;
    const versions = indexOf(op.doc).versionsOf.get(op.value);
    if (op.acked) {
      summary.acknowledged++;
      if (!versions || (op.version !== undefined && !versions.includes(op.version))) summary.lost++;
    } else if (versions) {
      summary.unacknowledgedApplied++;
    }
    if (versions && versions.length > 1) summary.duplicated++;
  }
  return summary;
}
