/** @jsxRuntime automatic @jsxImportSource react */
import { Box, Text } from "ink";
import type { CandleView } from "../../../src/pipeline/dashboard.js";
import { candleChart, formatPrice } from "./format.js";

/** The newest candles of the selected step and product as a terminal candlestick chart (title line + `height` rows). */
export function Candles({ view, step, width, height }: { view: CandleView | null; step: string | undefined; width: number; height: number }) {
  if (!view || view.records.length === 0) {
    return (
      <Box flexDirection="column" height={height + 1}>
        <Text dimColor>{view ? `no candles of ${view.feature} in Redis yet` : `no candles for ${step ?? "this step"} (it publishes no feature windows)`}</Text>
      </Box>
    );
  }
  const chart = candleChart(view.records, width, height);
  const last = view.records[view.records.length - 1]!;
  const more = view.products.length > 1 ? ` · ${view.products.indexOf(view.product ?? "") + 1}/${view.products.length} products (p: next)` : "";
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>candles </Text>
        {view.feature} · {view.product} · last {chart.shown} · close {formatPrice(last.close).trim()}
        {more}
      </Text>
      {chart.rows.map((r, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions in a fixed grid.
        <Text key={i} wrap="truncate">
          <Text dimColor>{r.label}</Text>
          {segments(r.cells).map((seg, j) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: segments are positions in the row.
            <Text key={j} color={seg.up === null ? undefined : seg.up ? "green" : "red"}>
              {seg.text}
            </Text>
          ))}
        </Text>
      ))}
    </Box>
  );
}

/** Runs of cells with the same colour, so a row is a few Text nodes rather than one per cell. */
function segments(cells: readonly { ch: string; up: boolean | null }[]): { text: string; up: boolean | null }[] {
  const out: { text: string; up: boolean | null }[] = [];
  for (const c of cells) {
    const last = out[out.length - 1];
    if (last && last.up === c.up) last.text += c.ch;
    else out.push({ text: c.ch, up: c.up });
  }
  return out;
}
