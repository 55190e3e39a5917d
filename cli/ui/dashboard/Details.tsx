/** @jsxRuntime automatic @jsxImportSource react */
import { Box, Text } from "ink";
import type { ReactNode } from "react";
import { describeExit, type StepView } from "../../../src/pipeline/dashboard.js";
import { useTint } from "./color.js";
import { fit, formatAge, formatCount, formatRate, sourceSummary } from "./format.js";
import { Sparkline } from "./Sparkline.js";
import { stateColor } from "./StepTable.js";

const time = (iso: string | null) => (iso ? iso.slice(11, 19) : "-");

/** Everything about one step: replicas with pids and exits, rates with trends, counters, lag per topic and partition. */
export function Details({ step, width, height }: { step: StepView; width: number; height: number }) {
  const tint = useTint();
  const lines: { key: string; node: ReactNode }[] = [];
  const add = (key: string, node: ReactNode) => lines.push({ key, node });
  add(
    "head",
    <Text>
      <Text bold>{step.name}</Text> — {step.kind}, <Text color={tint(stateColor(step.state))}>{step.state}</Text>, {step.running}/{step.replicas} replicas, {step.restarts} restarts,
      group {step.consumerGroup}
    </Text>,
  );
  add("topics", <Text>reads {step.inputs.join(", ") || "-"} · writes {step.outputs.join(", ") || "-"}</Text>);
  const spark = Math.max(10, Math.min(40, width - 40));
  add(
    "in",
    <Text>
      {fit("consumed", 10)}
      {fit(formatCount(step.consumed), 9, "right")} {fit(`${formatRate(step.consumedRate)}/s`, 9, "right")} <Sparkline values={step.consumedHistory} width={spark} color="green" />
    </Text>,
  );
  add(
    "out",
    <Text>
      {fit("emitted", 10)}
      {fit(formatCount(step.emitted), 9, "right")} {fit(`${formatRate(step.emittedRate)}/s`, 9, "right")} <Sparkline values={step.emittedHistory} width={spark} color="blue" />
    </Text>,
  );
  add(
    "counts",
    <Text wrap="truncate">
      rejected {formatCount(step.rejected)} ({formatRate(step.rejectedRate)}/s) · late {formatCount(step.late)} ({formatRate(step.lateRate)}/s) · open windows{" "}
      {formatCount(step.windowsOpen)}
    </Text>,
  );
  if (step.role === "source") {
    const src = step.source;
    add("source", <Text wrap="truncate">source {sourceSummary(step) || "(no feed report)"} · last message {formatAge(step.freshnessMs)} ago</Text>);
    if (src?.endpoint || src?.products.length) add("feed", <Text wrap="truncate">reads {src.endpoint ?? "-"} · products {src.products.join(", ") || "-"}</Text>);
  } else {
    const end = step.lastWindowEnd === null ? "-" : new Date(step.lastWindowEnd).toISOString().slice(11, 19);
    add(
      "fresh",
      <Text wrap="truncate">
        feature {step.feature ?? "-"} · last final window ends {end} ({formatAge(step.freshnessMs)} ago) · updates {formatCount(step.updates)} ({formatRate(step.updatesRate)}/s)
      </Text>,
    );
  }
  add("rep-head", <Text bold>{`${fit("replica", 8)}${fit("pid", 9)}${fit("state", 11)}${fit("restarts", 9)}${fit("started", 9)}last exit`}</Text>);
  for (const r of step.instances) {
    const exit = r.lastExit ? describeExit(r.lastExit) : "-";
    add(
      `rep-${r.index}`,
      <Text wrap="truncate">{`${fit(`#${r.index}`, 8)}${fit(r.alive && r.pid ? String(r.pid) : "-", 9)}${fit(r.state, 11)}${fit(String(r.restarts), 9)}${fit(time(r.startedAt), 9)}${exit}`}</Text>,
    );
  }
  add("lag-head", <Text bold>lag (group {step.consumerGroup}: high watermark − committed)</Text>);
  if (step.lag.length === 0) add("lag-none", <Text dimColor>{step.lagTotal === null ? "unavailable" : "no input topics"}</Text>);
  for (const l of step.lag) {
    const parts = l.partitions.map((p) => `p${p.partition} ${p.high}−${p.committed < 0 ? "none" : p.committed}=${p.lag}`).join(" · ");
    add(
      `lag-${l.topic}`,
      <Text wrap="truncate">
        {fit(l.topic, 16)} {fit(formatCount(l.lag), 7, "right")} {parts}
      </Text>,
    );
  }
  if (step.lastError) add("err", <Text color={tint("red")} wrap="truncate">last error: {step.lastError}</Text>);
  return (
    <Box flexDirection="column">
      {lines.slice(0, height).map((l) => (
        <Box key={l.key}>{l.node}</Box>
      ))}
    </Box>
  );
}
