/** NDJSON: a byte stream cut into its lines (UTF-8, "\n" or "\r\n"), without holding more than a line at a time. */

/** The non-empty lines of `stream`, as text without their line ends. */
export async function* ndjsonLines(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
): AsyncGenerator<string, void, undefined> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let buffered = "";
  const chunks: AsyncIterable<Uint8Array> =
    Symbol.asyncIterator in stream ? (stream as AsyncIterable<Uint8Array>) : readerOf(stream);
  for await (const chunk of chunks) {
    buffered += decoder.decode(chunk, { stream: true });
    let end = buffered.indexOf("\n");
    while (end >= 0) {
      const line = buffered.slice(0, end).replace(/\r$/, "");
      buffered = buffered.slice(end + 1);
      if (line !== "") yield line;
      end = buffered.indexOf("\n");
    }
  }
  buffered += decoder.decode();
  const last = buffered.replace(/\r$/, "");
  if (last !== "") yield last;
}

/** A ReadableStream as an async iterable (not every runtime makes streams iterable). */
async function* readerOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
