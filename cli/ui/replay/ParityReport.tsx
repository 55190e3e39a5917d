/** @jsxRuntime automatic @jsxImportSource react */
import { Box, Text } from "ink";
import type { ReplayReport } from "../../../src/replay/report.js";

const n = (v: number | null, digits = 0) =>
  v === null ? "–" : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

function Row({ k, v, bad }: { k: string; v: string; bad?: boolean }) {
  return (
    <Box>
      <Box width={18}>
        <Text dimColor>{k}</Text>
      </Box>
      <Text color={bad ? "red" : undefined}>{v}</Text>
    </Box>
  );
}

/** The parity report: counts, throughput and latency, then the first mismatches side by side. */
export function ParityReport({ report: r }: { report: ReplayReport }) {
  const p = r.parity;
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold color={p.ok ? "green" : "red"}>
          {p.ok ? "✔ PARITY OK" : "✘ PARITY FAILED"}
        </Text>{" "}
        {r.feature.name} on {r.ticksFile}
      </Text>
      <Box flexDirection="column" marginTop={1}>
        <Row k="ticks" v={n(r.ticks)} />
        <Row k="rejected" v={`${n(r.rejected)} (dead-letter topic: ${n(r.rejectedInStream)})`} />
        <Row k="late" v={`${n(r.late)} (late topic: ${n(r.lateInStream)})`} />
        <Row k="windows expected" v={n(p.expected)} />
        <Row k="matched" v={n(p.matched)} />
        <Row k="mismatched" v={n(p.mismatched)} bad={p.mismatched > 0} />
        <Row k="missing" v={n(p.missing)} bad={p.missing > 0} />
        <Row k="extra" v={n(p.extra)} bad={p.extra > 0} />
        <Row k="produced" v={`${n(r.throughput.producedPerSec)} ticks/s`} />
        <Row k="processed" v={`${n(r.throughput.processedPerSec)} ticks/s`} />
        <Row k="latency p50/p99" v={`${n(r.latency.p50Ms, 1)} / ${n(r.latency.p99Ms, 1)} ms`} />
        <Row k="broker" v={`${r.broker.provider} ${r.broker.brokers.join(",")}`} />
        <Row k="redis" v={r.redis.url ? `${r.redis.provider} ${r.redis.url}` : "none"} />
        {r.chaos.requested > 0 && <Row k="chaos" v={`${r.chaos.kills} SIGKILLs, ${r.chaos.restarts} restarts`} />}
      </Box>
      {r.rejections.length > 0 && (
        <Box flexDirection="column" marginTop={1}>
          <Text dimColor>first rejected lines:</Text>
          {r.rejections.slice(0, 3).map((j) => (
            <Text key={`${j.line}`}>
              {"  "}line {j.line ?? "?"}: {j.reason}
            </Text>
          ))}
        </Box>
      )}
      {p.mismatches.length > 0 && (
        <Box flexDirection="column" marginTop={1}>
          <Text dimColor>mismatched windows (batch │ stream):</Text>
          {p.mismatches.slice(0, 5).map((m) => (
            <Box key={`${m.key}${m.start}`} flexDirection="column">
              <Text>
                {"  "}
                {m.key} [{iso(m.start)}, {iso(m.end)})
              </Text>
              {m.diffs.map((d) => (
                <Text key={d.field}>
                  {"    "}
                  <Text color="yellow" bold>
                    {d.field.padEnd(8)}
                  </Text>{" "}
                  {String(d.expected).padEnd(22)} │ <Text color="red">{String(d.actual)}</Text>
                </Text>
              ))}
            </Box>
          ))}
        </Box>
      )}
      {p.missingWindows.length > 0 && (
        <Text>
          {"  "}missing from the stream: {p.missingWindows.slice(0, 3).map((w) => `${w.key}@${iso(w.start)}`).join(", ")}
        </Text>
      )}
      {p.extraWindows.length > 0 && (
        <Text>
          {"  "}extra in the stream: {p.extraWindows.slice(0, 3).map((w) => `${w.key}@${iso(w.start)}`).join(", ")}
        </Text>
      )}
      {!p.ok && r.explainedByLate && (
        <Text color="yellow">Every difference is in a window late ticks fell into: stream and batch differ only because of late events.</Text>
      )}
    </Box>
  );
}
