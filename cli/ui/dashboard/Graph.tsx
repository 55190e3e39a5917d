/** @jsxRuntime automatic @jsxImportSource react */
import { Box, Text } from "ink";
import type { StepView } from "../../../src/pipeline/dashboard.js";
import { graphLines } from "./format.js";

/** The pipeline: per step, the topics it reads (with its group's lag), the step, the topics it writes. */
export function Graph({ steps, width, maxLines }: { steps: readonly StepView[]; width: number; maxLines: number }) {
  const lines = graphLines(steps, width);
  const fits = lines.length <= maxLines;
  const shown = fits ? lines : lines.slice(0, Math.max(0, maxLines - 1));
  return (
    <Box flexDirection="column">
      {shown.map((l, i) => (
        <Text key={steps[i]?.name ?? i} color="cyan" wrap="truncate">
          {l}
        </Text>
      ))}
      {!fits && <Text dimColor>… {lines.length - shown.length} more steps</Text>}
    </Box>
  );
}
