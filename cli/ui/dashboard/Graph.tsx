/** @jsxRuntime automatic @jsxImportSource react */
import { Box, Text } from "ink";
import type { StepView } from "../../../src/pipeline/dashboard.js";
import { useTint } from "./color.js";
import { graphLines } from "./format.js";

/** The pipeline in topic-flow order, the source at its head: per step what it reads (with its lag), its state, what it writes. */
export function Graph({ steps, width, maxLines }: { steps: readonly StepView[]; width: number; maxLines: number }) {
  const tint = useTint();
  const lines = graphLines(steps, width);
  const fits = lines.length <= maxLines;
  const shown = fits ? lines : lines.slice(0, Math.max(0, maxLines - 1));
  return (
    <Box flexDirection="column">
      {shown.map((l, i) => (
        <Text key={steps[i]?.name ?? i} color={tint(steps[i]?.role === "source" ? "magenta" : "cyan")} wrap="truncate">
          {l}
        </Text>
      ))}
      {!fits && <Text dimColor>… {lines.length - shown.length} more steps</Text>}
    </Box>
  );
}
