/** Command-line options of the bench tools: `--name=value`, or `--flag` (value "true"). */
export function parseArgs(argv: readonly string[] = process.argv.slice(2)): Map<string, string> {
  return new Map(
    argv
      .filter((a) => a.startsWith("--"))
      .map((a) => {
        const [k, v] = a.slice(2).split("=");
        return [k ?? "", v ?? "true"] as const;
      }),
  );
}
