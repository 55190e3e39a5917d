/** @jsxRuntime automatic @jsxImportSource react */
import { Text } from "ink";
import { useTint } from "./color.js";
import { sparkline } from "./format.js";

/** The last `width` values as bars scaled to their maximum. */
export function Sparkline({ values, width, color }: { values: readonly number[]; width: number; color?: string }) {
  const tint = useTint();
  return <Text color={tint(color)}>{sparkline(values, width)}</Text>;
}
