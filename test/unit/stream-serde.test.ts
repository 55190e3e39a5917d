import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { eofHeaders } from "../../src/stream/control.js";
import { type Decoded, decodeMessage } from "../../src/stream/serde.js";
import { generateTicks, prng } from "../../src/tick/generate.js";
import { parseTickLine } from "../../src/tick/validate.js";

/** The decoding without the byte scanner: UTF-8 text, then JSON.parse + validateTick (what the step did before). */
function slow(value: Buffer): Decoded {
  const r = parseTickLine(value.toString("utf8"));
  if (r.ok) return { kind: "tick", tick: r.tick };
  const { reason, field, detail } = r.rejection;
  return { kind: "reject", reason, field, detail: detail ?? reason };
}

function same(value: Buffer): Decoded {
  const fast = decodeMessage({ value });
  const want = slow(value);
  assert.deepEqual(fast, want, value.toString("latin1"));
  if (fast.kind === "tick" && want.kind === "tick") assert.deepEqual(Object.keys(fast.tick), Object.keys(want.tick), "same key order");
  return fast;
}

describe("stream message decoding (the byte fast path)", () => {
  it("decodes generated ticks, malformed ones included, exactly as the slow path does", () => {
    const lines = generateTicks({ n: 5_000, seed: 5, outOfOrderMs: 1_000, malformedRate: 0.1 });
    const kinds = lines.map((l) => same(Buffer.from(l)).kind);
    const ticks = kinds.filter((k) => k === "tick").length;
    assert.ok(ticks > 4_000 && ticks < 5_000, `${ticks} ticks`);
    assert.ok(kinds.includes("reject"));
  });

  it("decodes the recorded Coinbase feed with side, trade_id and sequence", () => {
    const text = readFileSync(new URL("../../data/coinbase-ticker-2021-04-17.jsonl", import.meta.url), "utf8");
    const first = text.split("\n")[0]!;
    const d = same(Buffer.from(first));
    assert.equal(d.kind, "tick");
    assert.deepEqual(d.kind === "tick" && { ...d.tick }, {
      product_id: "BAND-GBP",
      price: 14.7775,
      last_size: 0.04,
      time: Date.UTC(2021, 3, 17, 16, 43, 30, 244),
      side: "buy",
      trade_id: 881613,
      sequence: 333938798,
    });
    for (const line of text.split("\n")) if (line.trim()) same(Buffer.from(line));
  });

  it("random byte edits (invalid UTF-8, BOMs, control bytes, truncation) never change the result", () => {
    const rnd = prng(77);
    const bytes = [0x22, 0x7b, 0x7d, 0x3a, 0x2c, 0x5c, 0x2d, 0x2e, 0x30, 0x39, 0x65, 0x20, 0x00, 0x0a, 0x80, 0xc3, 0xa9, 0xff, 0xef, 0xbb, 0xbf];
    const lines = generateTicks({ n: 300, seed: 9, malformedRate: 0.2 });
    let ticks = 0;
    let total = 0;
    for (const line of lines) {
      for (let k = 0; k < 25; k++) {
        const b = [...Buffer.from(line)];
        for (let e = 1 + Math.floor(rnd() * 3); e > 0; e--) {
          const at = Math.floor(rnd() * b.length);
          const op = rnd();
          const c = bytes[Math.floor(rnd() * bytes.length)]!;
          if (op < 0.3) b.splice(at, 1);
          else if (op < 0.6) b.splice(at, 0, c);
          else if (op < 0.95) b[at] = c;
          else b.length = Math.max(1, at);
        }
        total++;
        if (same(Buffer.from(b)).kind === "tick") ticks++;
      }
    }
    assert.ok(ticks > total * 0.05 && ticks < total, `${ticks} of ${total} decoded as ticks`);
  });

  it("reads a value that is a view into a larger buffer (as kafkajs hands them out) only within its bounds", () => {
    const line = generateTicks({ n: 1, seed: 3 })[0]!;
    const big = Buffer.from(`xx${line}{"type":"ticker"}`);
    const view = big.subarray(2, 2 + Buffer.byteLength(line));
    assert.equal(same(view).kind, "tick");
    assert.equal(same(big.subarray(2, 2 + Buffer.byteLength(line) - 1)).kind, "reject", "one byte short is bad JSON");
  });

  it("eof markers, empty and oversized values are decided before any parsing", () => {
    assert.deepEqual(decodeMessage({ value: null, headers: eofHeaders() }), { kind: "eof" });
    assert.equal(decodeMessage({ value: Buffer.alloc(0) }).kind, "reject");
    const line = generateTicks({ n: 1, seed: 3 })[0]!;
    const d = decodeMessage({ value: Buffer.from(line) }, 10);
    assert.equal(d.kind === "reject" && d.reason, "too large");
  });
});
