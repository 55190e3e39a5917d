/** @jsxRuntime automatic @jsxImportSource react */
import { Box, Text } from "ink";
import { type CellTone, candleChart, type ChartCell } from "../../../src/chart/terminal.js";
import type { CandleView } from "../../../src/pipeline/dashboard.js";
import { useTint } from "./color.js";
import { clock, formatInterval, ohlcLine } from "./format.js";

const TONE: Record<Exclude<CellTone, null>, string> = { up: "green", down: "red", open: "yellow" };

/** Lines the component draws besides the chart's rows: the title, the time axis and the OHLC line. */
export const CANDLE_CHROME = 3;

/**
 * The newest candles of the selected step and product as a terminal candlestick chart: a title, `height` rows, the
 * time axis, and the in-progress candle's values (or the last final one's when no window is in progress).
 */
export function Candles({ view, step, width, height }: { view: CandleView | null; step: string | undefined; width: number; height: number }) {
  const tint = useTint();
  if (!view || (view.records.length === 0 && !view.inProgress)) {
    return (
      <Box flexDirection="column" height={height + CANDLE_CHROME}>
        <Text dimColor>{view ? `no candles of ${view.feature} in Redis yet` : `no candles for ${step ?? "this step"} (it publishes no feature windows)`}</Text>
      </Box>
    );
  }
  const chart = candleChart(view.records, width, height, view.inProgress);
  const last = view.records[view.records.length - 1];
  const sample = last ?? view.inProgress!;
  const first = view.records[view.records.length - chart.shown] ?? sample;
  const span = last ? ` · ${clock(first.start)}–${clock(last.end)}` : "";
  // Hopping windows overlap: say how far apart they start ("1m every 1s").
  const prev = view.records[view.records.length - 2];
  const hop = last && prev && last.start - prev.start < last.end - last.start ? ` every ${formatInterval(last.start - prev.start)}` : "";
  const more = view.products.length > 1 ? ` · ${view.products.indexOf(view.product ?? "") + 1}/${view.products.length} (p: next)` : "";
  const live = view.inProgress;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>candles </Text>
        {view.feature} · {view.product} · {chart.shown} × {formatInterval(sample.end - sample.start)}
        {hop}
        {span}
        {more}
      </Text>
      {chart.rows.map((r, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions in a fixed grid.
        <Text key={i} wrap="truncate">
          <Text dimColor>{r.label}</Text>
          {segments(r.cells).map((seg, j) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: segments are positions in the row.
            <Text key={j} color={seg.tone === null ? undefined : tint(TONE[seg.tone])} dimColor={seg.tone === "open"}>
              {seg.text}
            </Text>
          ))}
        </Text>
      ))}
      <Text dimColor wrap="truncate">
        {chart.axis || " "}
      </Text>
      {live ? (
        <Text wrap="truncate">
          <Text color={tint("yellow")} bold>
            ░ in progress {clock(live.start)}
          </Text>{" "}
          {ohlcLine(live)}
        </Text>
      ) : (
        <Text wrap="truncate" dimColor>
          last final {clock(last!.start)} {ohlcLine(last!)} · no window in progress
        </Text>
      )}
    </Box>
  );
}

/** Runs of cells with the same tone, so a row is a few Text nodes rather than one per cell. */
function segments(cells: readonly ChartCell[]): { text: string; tone: CellTone }[] {
  const out: { text: string; tone: CellTone }[] = [];
  for (const c of cells) {
    const last = out[out.length - 1];
    if (last && last.tone === c.tone) last.text += c.ch;
    else out.push({ text: c.ch, tone: c.tone });
  }
  return out;
}
