/**
 * Progress on standard error: a bar with the rate and the time left on a terminal (cli-progress), plain lines
 * every few seconds otherwise (logs, CI), so that standard output stays the data.
 */
import { SingleBar } from "cli-progress";
import pc from "picocolors";

export interface Progress {
  update(done: number, total?: number): void;
  stop(): void;
}

const rate = (done: number, ms: number) => (ms <= 0 ? 0 : Math.round((done * 1000) / ms));

function seconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function progress(label: string, unit: string, total: number, quiet = false): Progress {
  const started = Date.now();
  if (quiet) return { update() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      format: `${label} ${pc.cyan("{bar}")} {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | {eta_formatted} left`,
      barCompleteChar: "█",
      barIncompleteChar: "░",
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
      stream: process.stderr,
    });
    bar.start(Math.max(total, 1), 0, { rate: 0 });
    return {
      update(done, newTotal) {
        if (newTotal !== undefined && newTotal !== total) {
          total = newTotal;
          bar.setTotal(Math.max(total, 1));
        }
        if (done > total) bar.setTotal(done);
        bar.update(done, { rate: rate(done, Date.now() - started) });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let last = 0;
  let done = 0;
  const line = (final: boolean) => {
    const elapsed = Date.now() - started;
    const perSecond = rate(done, elapsed);
    const left = perSecond > 0 ? Math.max(0, total - done) / perSecond : Number.POSITIVE_INFINITY;
    const share = total > 0 ? ` (${Math.min(100, Math.floor((100 * done) / total))}%)` : "";
    process.stderr.write(
      `${label}: ${done}/${total} ${unit}${share}, ${perSecond} ${unit}/s, ${
        final ? `done in ${seconds(elapsed / 1000)}` : `about ${seconds(left)} left`
      }\n`,
    );
  };
  return {
    update(value, newTotal) {
      done = value;
      if (newTotal !== undefined) total = newTotal;
      if (Date.now() - last >= 2_000) {
        last = Date.now();
        line(false);
      }
    },
    stop() {
      line(true);
    },
  };
}
