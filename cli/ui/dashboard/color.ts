/**
 * Whether the dashboard may colour its text. Ink's chalk ignores NO_COLOR, so the App is told (`color={false}`)
 * and every component asks `useTint()` instead of passing a colour name straight to <Text>. Without colour the
 * screen still reads: states are words, and the chart's glyphs tell rising, falling and in-progress candles apart.
 */
import { createContext, useContext } from "react";

export const ColorContext = createContext(true);

/** `tint("green")` is "green" when colour is on, else undefined (Ink then writes no colour code). */
export function useTint(): (color: string | undefined) => string | undefined {
  const on = useContext(ColorContext);
  return (color) => (on ? color : undefined);
}
