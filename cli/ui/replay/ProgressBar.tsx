/** @jsxRuntime automatic @jsxImportSource react */
import { Text } from "ink";

/** A fixed-width text bar: `[██████░░░░]  60%  label`. */
export function ProgressBar({ value, total, width = 30, label }: { value: number; total: number; width?: number; label: string }) {
  const frac = total > 0 ? Math.min(1, value / total) : 0;
  const full = Math.round(frac * width);
  return (
    <Text>
      {label.padEnd(10)} [<Text color="green">{"█".repeat(full)}</Text>
      {"░".repeat(width - full)}] {String(Math.round(frac * 100)).padStart(3)}% {value.toLocaleString("en-US")}/{total.toLocaleString("en-US")}
    </Text>
  );
}
