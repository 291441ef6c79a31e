/**
 * The one logger: a JSON line per entry, at a level the deployment chooses (`LOG_LEVEL`), so that tests and
 * benchmarks run quiet and production logs stay parseable by Workers Logs. Never give it a credential.
 */

import type { LogLevel } from "../domain/config";

export type LogFields = Record<string, unknown>;
export type LogSink = (level: Exclude<LogLevel, "off">, line: string) => void;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, off: 100 };

const consoleSink: LogSink = (level, line) => {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
};

let threshold = RANK.info;
let sink: LogSink = consoleSink;

/** Sets the isolate's level (from configuration); entries below it are dropped before they are built. */
export function setLogLevel(level: LogLevel): void {
  threshold = RANK[level];
}

/** Routes every line to `next` (a test's recorder); returns a function that restores the previous sink. */
export function setLogSink(next: LogSink): () => void {
  const previous = sink;
  sink = next;
  return () => {
    sink = previous;
  };
}

export function logs(level: Exclude<LogLevel, "off">): boolean {
  return RANK[level] >= threshold;
}

function write(level: Exclude<LogLevel, "off">, msg: string, fields: LogFields): void {
  if (!logs(level)) return;
  sink(level, JSON.stringify({ level, msg, ...fields }));
}

/** An error as a log field: its message, not its stack or its own fields (which may carry request data). */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export const log = {
  debug: (msg: string, fields: LogFields = {}) => write("debug", msg, fields),
  info: (msg: string, fields: LogFields = {}) => write("info", msg, fields),
  warn: (msg: string, fields: LogFields = {}) => write("warn", msg, fields),
  error: (msg: string, fields: LogFields = {}) => write("error", msg, fields),
};
