/**
 * The fast producer's line reading for replay (src/replay/produce.ts `lineFacts`, `forEachLine`; src/kafka/produce/
 * lines.ts) gives exactly what the kafkajs path's `inputMessages` gives for the same file: the same lines (split as
 * readline splits them, blank ones skipped), the same bytes, keys and event times, for generated ticks with every
 * kind of malformed line and for lines that must take the slow way (escapes, nesting, spaces, non-ASCII, \r).
 */
import assert from "node:assert/strict";
import { isAscii } from "node:buffer";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { lineChunks } from "../../src/kafka/index.js";
import { eventTime, forEachLine, inputMessages, type LineFacts, lineFacts, lineKey, scanTickerLine } from "../../src/replay/produce.js";
import { generateTicks } from "../../src/tick/generate.js";

const dir = mkdtempSync(join(tmpdir(), "quixlab-fast-lines-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const t = '"time":"2023-06-09T12:00:00.123Z"';
const EDGE = [
  `{"type":"ticker","product_id":"BTC-USD","price":"1",${t}}`,
  `{"type":"ticker","product_id":"BTC-USD","price":"1",${t},"product_id":"ETH-USD"}`, // the last duplicate wins
  `{"product_id":"","price":"1",${t}}`, // empty key: none
  `{"product_id":7,${t}}`,
  `{"product_id":null,"time":12345}`,
  `{"product_id":"A\\"B",${t}}`, // an escape: slow way
  `{"product_id":"A\\u0042",${t}}`,
  `{"product_id":"ÉTH",${t}}`, // non-ASCII
  `{ "product_id":"SPACED", ${t} }`,
  `{"x":{"product_id":"NESTED"},${t}}`,
  `{"x":[1,2],"product_id":"ARR",${t}}`,
  `{"product_id":"NUM","a":01,${t}}`, // invalid number: JSON.parse refuses
  `{"product_id":"NUM2","a":-0.5e+3,"b":true,"c":false,"d":null,${t}}`,
  `{"product_id":"BAD","a":-,${t}}`,
  `{"product_id":"TRAIL",${t},}`,
  `{"product_id":"TWO",${t}}}`,
  `{"product_id":"BADTIME","time":"not a time"}`,
  `{"product_id":"NOTIME"}`,
  `{"product_id":"CTRL\tTAB",${t}}`,
  "{}",
  "[1,2]",
  "not json",
  "   ",
  "\t",
  "",
  `{"product_id":"CR-IN\rSIDE",${t}}`, // a lone \r ends a line for readline
  `{"product_id":"CRLF",${t}}\r`,
  `\uFEFF{"product_id":"BOM",${t}}`,
  `{"product_id":"LONG","pad":"${"p".repeat(5000)}",${t}}`,
];

async function viaInputMessages(file: string) {
  const out: { key: string | null; value: string; time?: number }[] = [];
  for await (const batch of inputMessages(file, { format: "jsonl" })) for (const m of batch) out.push({ key: m.key, value: m.value, ...(m.time === undefined ? {} : { time: m.time }) });
  return out;
}

async function viaFastPath(file: string, chunkBytes: number) {
  const out: { key: string | null; value: string; time?: number }[] = [];
  const facts: LineFacts = { key: null, keyAt: -1, keyLen: -1, time: Number.NaN, text: null };
  for await (const { buf, end } of lineChunks(file, chunkBytes)) {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    const ascii = isAscii(buf.subarray(0, end));
    forEachLine(buf, 0, end, (s, e) => {
      if (lineFacts(buf, view, ascii, s, e, facts)) {
        const value = facts.text ? facts.text.toString() : buf.toString("utf8", s, e);
        out.push({ key: lineKey(buf, facts), value, ...(Number.isFinite(facts.time) ? { time: facts.time } : {}) });
      }
      return true;
    });
  }
  return out;
}

describe("fast line reading for replay", () => {
  it("matches inputMessages on generated ticks with malformed lines, whatever the chunk size", async () => {
    const file = join(dir, "ticks.jsonl");
    writeFileSync(file, `${generateTicks({ n: 5_000, products: 4, seed: 18, malformedRate: 0.2 }).join("\n")}\n`);
    const expected = await viaInputMessages(file);
    assert.equal(expected.length, 5_000);
    for (const chunk of [64, 1000, 4 * 1024 * 1024]) assert.deepEqual(await viaFastPath(file, chunk), expected, `chunks of ${chunk} bytes`);
  });

  it("matches inputMessages on lines that must take the slow way", async () => {
    for (const ending of ["\n", "\r\n"]) {
      const file = join(dir, `edge${ending.length}.jsonl`);
      writeFileSync(file, EDGE.join(ending));
      const expected = await viaInputMessages(file);
      assert.ok(expected.some((m) => m.value === '{"product_id":"CR-IN'), "readline splits on a lone \\r");
      for (const chunk of [16, 333, 1 << 20]) assert.deepEqual(await viaFastPath(file, chunk), expected, `line ending ${JSON.stringify(ending)}, chunks of ${chunk}`);
    }
  });

  it("scans a simple line without parsing it and leaves the rest to JSON.parse", () => {
    const facts: LineFacts = { key: null, keyAt: -1, keyLen: -1, time: Number.NaN, text: null };
    let b = Buffer.alloc(0);
    const scan = (text: string) => {
      b = Buffer.from(text);
      return scanTickerLine(b, new DataView(b.buffer, b.byteOffset, b.length), 0, b.length, facts);
    };
    assert.equal(scan(EDGE[0]!), true);
    assert.equal(lineKey(b, facts), "BTC-USD");
    assert.equal(facts.time, Date.parse("2023-06-09T12:00:00.123Z"));
    assert.equal(facts.text, null, "the value is the bytes as read");
    assert.equal(scan(EDGE[1]!), true);
    assert.equal(lineKey(b, facts), "ETH-USD", "the last duplicate, as JSON.parse");
    for (const slow of [5, 6, 8, 9, 10, 11, 13, 14, 15, 18]) assert.equal(scan(EDGE[slow]!), false, EDGE[slow]);
  });
});

describe("eventTime (the fast path's Date.parse)", () => {
  it("equals Date.parse on strict ISO times and on everything else", () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pad = (n: number, w: number) => String(n).padStart(w, "0");
    const texts = ["2023-06-09T12:00:00Z", "2023-06-09T12:00:00.1Z", "2023-06-09T24:00:00Z", "2023-02-29T00:00:00Z", "2024-02-29T00:00:00.999999Z", "2023-06-09t12:00:00z", "2023-06-09T12:00:00,5Z", "2023-06-09T12:00:00", "2023-06-09T12:00:00.Z", "2023-06-09T12:00:00+01:00", "2023-06-09 12:00:00Z", "0099-01-01T00:00:00Z", "garbage"];
    for (let i = 0; i < 20_000; i++) {
      const y = Math.floor(rnd() * 10000);
      const mo = Math.floor(rnd() * 14);
      const d = Math.floor(rnd() * 33);
      const h = Math.floor(rnd() * 26);
      const mi = Math.floor(rnd() * 61);
      const sec = Math.floor(rnd() * 61);
      const frac = Math.floor(rnd() * 10);
      const digits = Array.from({ length: frac }, () => Math.floor(rnd() * 10)).join("");
      texts.push(`${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(sec, 2)}${frac ? `.${digits}` : ""}Z`);
    }
    for (const text of texts) {
      const b = Buffer.from(`xx${text}yy`);
      assert.equal(eventTime(b, 2, text.length), Date.parse(text), text);
    }
  });
});
