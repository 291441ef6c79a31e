/** The Prometheus text exposition format (0.0.4): HELP and TYPE once per metric, then its samples. */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly samples: readonly Sample[];
}

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/** `le` as a number, +Inf last; NaN for a sample without one. */
function bound(sample: Sample): number {
  const le = sample.labels.le;
  return le === undefined ? Number.NaN : le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
}

/**
 * A histogram's samples with each series' buckets in increasing `le`, as the format asks (storage orders them as
 * text: "+Inf", "10", "100", ...). Other samples keep their order; each series' buckets stay where its first was.
 */
function ordered(family: Family): readonly Sample[] {
  if (family.type !== "histogram") return family.samples;
  const series = (s: Sample) =>
    `${s.name}\u0000${Object.entries(s.labels)
      .filter(([k]) => k !== "le")
      .map(([k, v]) => `${k}=${v}`)
      .join("\u0000")}`;
  const groups = new Map<string, Sample[]>();
  for (const sample of family.samples) {
    const key = series(sample);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [sample]);
    else group.push(sample);
  }
  return [...groups.values()].flatMap((group) => group.sort((a, b) => (bound(a) || 0) - (bound(b) || 0)));
}

export function render(families: readonly Family[]): string {
  let text = "";
  for (const family of families) {
    text += `# HELP ${family.name} ${family.help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n")}\n`;
    text += `# TYPE ${family.name} ${family.type}\n`;
    for (const sample of ordered(family)) {
      const labels = Object.entries(sample.labels)
        .map(([k, v]) => `${k}="${escapeLabel(String(v))}"`)
        .join(",");
      text += `${sample.name}${labels === "" ? "" : `{${labels}}`} ${formatValue(sample.value)}\n`;
    }
  }
  return text;
}
