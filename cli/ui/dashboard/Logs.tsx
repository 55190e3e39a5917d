/** @jsxRuntime automatic @jsxImportSource react */
import { Box, Text } from "ink";

/** The newest log lines of one step (from .quixlab/pipeline.log), as many as fit. */
export function Logs({ step, lines, height }: { step: string; lines: readonly string[] | null; height: number }) {
  const shown = (lines ?? []).slice(-Math.max(1, height - 1));
  return (
    <Box flexDirection="column">
      <Text bold>logs of {step} (newest last)</Text>
      {shown.length === 0 && <Text dimColor>no output yet</Text>}
      {shown.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a line's position on screen is its identity here.
        <Text key={i} wrap="truncate">
          {l}
        </Text>
      ))}
    </Box>
  );
}
