/** Benchmark reports: the markdown table (between markers, so hand-written analysis around it survives) and a chart. */

interface ReportRow {
  scenario: string;
  system: string;
  throughput: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  ratioToFloor: number | null;
  ratiosToFloor: number[];
  ratioToFloorQueue: number | null;
  ratioToD1Direct: number | null;
  cpuUsPerRequest: number;
}

interface Report {
  generatedAt: string;
  mode: string;
  elapsedSeconds: number;
  quietWaitSeconds: number;
  machine: { cpus: number; cpu: string; memoryGiB: number; node: string };
  harness: string;
  loadGenerator: string;
  scenarios: Array<{ name: string; description: string }>;
  results: ReportRow[];
  projection: {
    drain: {
      events: number;
      seconds: number;
      eventsPerSecond: number;
      backlogAtWritesEnd: number;
      tailSeconds: number;
    };
    lag: {
      rate: number;
      seconds: number;
      lagMs: { p50: number | null; p99: number | null };
      writeLatency: { p50: number; p99: number; max: number; errors: number };
    };
  };
}

const BEGIN = "<!-- bench:begin -->";
const END = "<!-- bench:end -->";
const fmt = (n: number, digits = 0) => n.toFixed(digits);
/** The median ratio, then each run's: `0.80 (0.71, 0.97, 0.80)`. */
const ratioCell = (ratio: number, each: readonly number[]) =>
  each.length > 1 ? `${fmt(ratio, 2)} (${each.map((r) => fmt(r, 2)).join(", ")})` : fmt(ratio, 2);

export function renderTable(report: Report, existing: string): string {
  const lines = [
    BEGIN,
    `Generated ${report.generatedAt} (${report.mode} run, ${fmt(report.elapsedSeconds / 60, 1)} min of which ` +
      `${report.quietWaitSeconds} s waiting for quiet) on ${report.machine.cpus} × ${report.machine.cpu}, ` +
      `${report.machine.memoryGiB} GiB, Node ${report.machine.node}.`,
    `Harness: ${report.harness}. Load: ${report.loadGenerator}.`,
    "",
    "| scenario | system | req/s | p50 ms | p99 ms | max ms | errors | × floor (each run) | × floor+queue | × D1-direct | CPU µs/req |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...report.results.map(
      (r) =>
        `| ${r.scenario} | ${r.system} | ${fmt(r.throughput)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${r.errors} | ${
          r.ratioToFloor === null
            ? "n/a"
            : r.system === "floor"
              ? "1.00"
              : ratioCell(r.ratioToFloor, r.ratiosToFloor)
        } | ${r.ratioToFloorQueue === null ? "" : fmt(r.ratioToFloorQueue, 2)} | ${
          r.ratioToD1Direct === null ? "" : fmt(r.ratioToD1Direct, 2)
        } | ${fmt(r.cpuUsPerRequest)} |`,
    ),
    "",
    "CPU µs/req is workerd's CPU time (user + system, from /proc) while the load ran, divided by the requests it " +
      "completed; it includes what the requests set off during the run (for Tessera: the queue sends) but not the " +
      "projection, which a saturated workerd here runs only once the load ends (see how the harness measures). " +
      "× floor+queue is Tessera's throughput over the pipeline floor's in the same run " +
      "(median of the runs): the floor plus one event message per write on a local queue, which is the least any " +
      "system that emits an event per write can do here. × D1-direct is Tessera's throughput over the common " +
      "alternative's, paired the same way.",
    "",
    ...report.scenarios.map((s) => `- **${s.name}**: ${s.description}`),
    "",
    "| projection | value |",
    "| --- | ---: |",
    `| drain: ${report.projection.drain.events} writes until all projected | ${fmt(report.projection.drain.eventsPerSecond)} events/s (${fmt(report.projection.drain.seconds, 1)} s) |`,
    `| drain: backlog when the writes ended, and its tail | ${report.projection.drain.backlogAtWritesEnd} events, ${fmt(report.projection.drain.tailSeconds, 1)} s |`,
    `| lag at ${report.projection.lag.rate} writes/s for ${report.projection.lag.seconds} s: p50 / p99 | ${report.projection.lag.lagMs.p50 ?? "n/a"} / ${report.projection.lag.lagMs.p99 ?? "n/a"} ms |`,
    `| open-loop write latency at that rate: p50 / p99 / max | ${fmt(report.projection.lag.writeLatency.p50)} / ${fmt(report.projection.lag.writeLatency.p99)} / ${fmt(report.projection.lag.writeLatency.max)} ms (${report.projection.lag.writeLatency.errors} errors) |`,
    "",
    "![throughput by scenario](benchmarks-chart.svg)",
    END,
  ].join("\n");
  const at = existing.indexOf(BEGIN);
  const end = existing.indexOf(END);
  if (at === -1 || end === -1) return `# Benchmarks\n\n${lines}\n`;
  return existing.slice(0, at) + lines + existing.slice(end + END.length);
}

const COLORS: Record<string, string> = {
  tessera: "#f38020",
  floor: "#4a5568",
  "floor+queue": "#a0aec0",
  "d1-direct": "#3182ce",
};

/** A grouped bar chart of throughput per scenario and system, as SVG, from the numbers. */
export function renderChart(rows: readonly ReportRow[]): string {
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  const systems = [...new Set(rows.map((r) => r.system))];
  const max = Math.max(1, ...rows.map((r) => r.throughput));
  const width = 860;
  const height = 360;
  const left = 60;
  const bottom = 300;
  const group = (width - left - 20) / scenarios.length;
  const bar = (group - 16) / systems.length;
  const y = (v: number) => bottom - (v / max) * (bottom - 30);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11" role="img">`,
    "<title>Throughput by scenario: Tessera, the platform floor, the pipeline floor and D1-direct</title>",
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="18" font-size="13" font-weight="bold">Throughput (req/s, median), higher is better</text>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = (max * t) / 4;
    parts.push(
      `<line x1="${left}" x2="${width - 20}" y1="${y(v)}" y2="${y(v)}" stroke="#e2e8f0"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v)}</text>`,
    );
  }
  scenarios.forEach((scenario, i) => {
    const x0 = left + i * group + 8;
    systems.forEach((system, j) => {
      const row = rows.find((r) => r.scenario === scenario && r.system === system);
      if (row === undefined) return;
      const x = x0 + j * bar;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y(row.throughput).toFixed(1)}" width="${(bar - 2).toFixed(1)}" height="${(bottom - y(row.throughput)).toFixed(1)}" fill="${COLORS[system] ?? "#999"}"/>`,
      );
    });
    parts.push(
      `<text x="${(x0 + (group - 16) / 2).toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${scenario}</text>`,
    );
  });
  systems.forEach((system, j) => {
    const x = left + j * 130;
    parts.push(
      `<rect x="${x}" y="${bottom + 32}" width="12" height="12" fill="${COLORS[system] ?? "#999"}"/>`,
      `<text x="${x + 18}" y="${bottom + 42}">${system}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
