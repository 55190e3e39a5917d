/** @jsxRuntime automatic @jsxImportSource react */
import { Box, Text } from "ink";
import type { StepView } from "../../../src/pipeline/dashboard.js";
import { useTint } from "./color.js";
import { tableHeader, tableRow } from "./format.js";

/** Colour of a step state: green when all is well, yellow while it recovers, red when it failed. */
export function stateColor(state: StepView["state"]): string {
  switch (state) {
    case "running":
      return "green";
    case "completed":
      return "blue";
    case "degraded":
    case "restarting":
    case "starting":
      return "yellow";
    case "failed":
      return "red";
    default:
      return "gray";
  }
}

/** One row per step: state, replicas, in/out rates with a trend sparkline, committed lag, rejected and late per second, freshness, restarts. */
export function StepTable({ steps, selected, columns, maxRows }: { steps: readonly StepView[]; selected: number; columns: number; maxRows: number }) {
  // Keep the selected row in view when there are more steps than rows.
  const tint = useTint();
  const first = Math.max(0, Math.min(selected - maxRows + 1, steps.length - maxRows));
  const shown = steps.slice(first, first + Math.max(1, maxRows));
  return (
    <Box flexDirection="column">
      <Text bold>{tableHeader(columns)}</Text>
      {shown.map((s, i) => {
        const row = tableRow(s, columns);
        const isSelected = first + i === selected;
        return (
          <Text key={s.name} wrap="truncate">
            <Text color={tint("cyan")}>{isSelected ? "▶ " : "  "}</Text>
            <Text bold={isSelected}>{row.name}</Text>
            <Text color={tint(stateColor(s.state))}>{row.state}</Text>
            <Text>{row.rest}</Text>
          </Text>
        );
      })}
    </Box>
  );
}
