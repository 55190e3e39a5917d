/** @jsxRuntime automatic @jsxImportSource react */
import { basename } from "node:path";
import { Box, Text, useApp, useInput, useStdout } from "ink";
import { type ReactNode, useCallback, useEffect, useRef, useState } from "react";
import type { DashboardData, DashboardQuery } from "../../../src/pipeline/dashboard.js";
import { chartCapacity } from "../../../src/chart/terminal.js";
import { CANDLE_CHROME, Candles } from "./Candles.js";
import { ColorContext } from "./color.js";
import { Details } from "./Details.js";
import { Graph } from "./Graph.js";
import { Logs } from "./Logs.js";
import { StepTable } from "./StepTable.js";

export interface AppProps {
  /** Fetches one refresh for the current selection (the CLI passes `collectDashboardData`). */
  load(query: DashboardQuery): Promise<DashboardData>;
  /** Shown until the first load finishes. */
  initial?: DashboardData;
  /** Default 1,000 ms. */
  refreshMs?: number;
  /** `r`: ask the supervisor to restart the step. */
  onRestart?(step: string): Promise<void> | void;
  /** `q`: called just before the app exits. */
  onQuit?(): void;
  /** Terminal size; default the stdout's (80×24 when unknown). */
  columns?: number;
  rows?: number;
  /** Initially selected step and product. */
  step?: string;
  product?: string;
  /** Colour on (default); the CLI passes false under NO_COLOR, which Ink's chalk does not read itself. */
  color?: boolean;
}

type View = "main" | "details" | "logs";

const KEYS: Record<View, string> = {
  main: "↑↓/jk select · enter details · l logs · r restart · p product · q quit",
  details: "↑↓/jk select · enter/esc back · l logs · r restart · q quit",
  logs: "↑↓/jk select · l/esc back · enter details · r restart · q quit",
};

/** Calls `load` now and then every `refreshMs` (never two at once); `refresh()` loads again at once. */
function usePolling(load: AppProps["load"], query: () => DashboardQuery, refreshMs: number, initial?: DashboardData) {
  const [data, setData] = useState<DashboardData | undefined>(initial);
  const [error, setError] = useState<string | undefined>();
  const loop = useRef({ alive: true, busy: false, again: false, timer: undefined as NodeJS.Timeout | undefined });
  const run = useCallback(async () => {
    const l = loop.current;
    if (l.busy) {
      l.again = true;
      return;
    }
    clearTimeout(l.timer);
    l.busy = true;
    try {
      const d = await load(query());
      if (l.alive) {
        setData(d);
        setError(undefined);
      }
    } catch (e) {
      if (l.alive) setError(e instanceof Error ? e.message : String(e));
    } finally {
      l.busy = false;
    }
    if (!l.alive) return;
    if (l.again) {
      l.again = false;
      void run();
    } else l.timer = setTimeout(() => void run(), refreshMs);
  }, [load, query, refreshMs]);
  useEffect(() => {
    const l = loop.current;
    l.alive = true;
    void run();
    return () => {
      l.alive = false;
      clearTimeout(l.timer);
    };
  }, [run]);
  return { data, error, refresh: run };
}

/** The live dashboard: graph, step table, candles of the selected step; details and logs views; keys to drive it. */
export function App(props: AppProps) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [size, setSize] = useState(() => ({ columns: props.columns ?? stdout.columns ?? 80, rows: props.rows ?? stdout.rows ?? 24 }));
  useEffect(() => {
    if (props.columns !== undefined || props.rows !== undefined) return;
    const onResize = () => setSize({ columns: stdout.columns ?? 80, rows: stdout.rows ?? 24 });
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
  }, [stdout, props.columns, props.rows]);
  const [stepName, setStepName] = useState(props.step);
  const [product, setProduct] = useState(props.product);
  const [view, setView] = useState<View>("main");
  const [message, setMessage] = useState<string | undefined>();
  const current = useRef<DashboardQuery>({});
  const query = useCallback(() => current.current, []);
  const { data, error, refresh } = usePolling(props.load, query, props.refreshMs ?? 1_000, props.initial);

  const steps = data?.steps ?? [];
  // Until the user picks one, the step the data was read for (the first with candles, not the source at the top).
  const index = Math.max(0, steps.findIndex((s) => s.name === (stepName ?? data?.selected)));
  const selected = steps[index];
  // Read by the next load (a ref, so the polling loop need not restart when the selection changes).
  // The chart shows one candle per column at most: fetch as many as fit, whatever the history holds.
  current.current = { step: selected?.name ?? stepName, product, logs: view === "logs", candles: chartCapacity(Math.min(size.columns, 200)) };

  // Selection, view and product change what is fetched: fetch again at once rather than on the next tick.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the dependencies are the triggers, read through `query`.
  useEffect(() => {
    void refresh();
  }, [stepName, product, view, refresh]);

  // Ink re-subscribes the input handler in an effect, after the frame is drawn: a key pressed in between would
  // reach the previous render's handler. Reading the newest render's values through a ref avoids acting on a
  // selection the user no longer sees.
  const latest = useRef({ steps, index, selected, data });
  latest.current = { steps, index, selected, data };
  useInput((input, key) => {
    const { steps, index, selected, data } = latest.current;
    if (input === "q") {
      props.onQuit?.();
      exit();
      return;
    }
    const move = key.upArrow || input === "k" ? -1 : key.downArrow || input === "j" ? 1 : 0;
    if (move !== 0 && steps.length > 0) {
      const next = steps[Math.min(steps.length - 1, Math.max(0, index + move))]!;
      setStepName(next.name);
      setMessage(undefined);
    } else if (key.return) setView((v) => (v === "details" ? "main" : "details"));
    else if (key.escape) setView("main");
    else if (input === "l") setView((v) => (v === "logs" ? "main" : "logs"));
    else if (input === "p") {
      const products = data?.candles?.products ?? [];
      if (products.length > 1) setProduct(products[(products.indexOf(data?.candles?.product ?? "") + 1) % products.length]);
    } else if (input === "r" && selected && props.onRestart) {
      const name = selected.name;
      setMessage(`restart of ${name} requested`);
      Promise.resolve(props.onRestart(name)).catch((e: unknown) => setMessage(`restart of ${name} failed: ${e instanceof Error ? e.message : String(e)}`));
    }
  });

  const { columns } = size;
  // One line short of the screen: Ink clears the whole terminal when a frame is as tall as it (flicker).
  const budget = Math.max(10, size.rows - 1);
  const clock = data ? new Date(data.at).toISOString().slice(11, 19) : "--:--:--";
  const header = data?.found
    ? `quixlab dashboard · ${basename(data.descriptor)} · ${steps.length} steps · kafka ${data.brokers.join(",")} · ${clock}`
    : "quixlab dashboard";
  const status =
    message ?? (error ? `refresh failed: ${error}` : (data?.problems[0] ?? (selected?.lastError ? `${selected.name}: ${selected.lastError}` : "")));
  const tint = (c: string) => (props.color === false ? undefined : c);
  const statusColor = message ? "cyan" : error || data?.problems.length ? "red" : "yellow";

  let body: ReactNode;
  if (!data) body = <Text dimColor>loading…</Text>;
  else if (!data.found) body = <Text color={tint("red")}>{data.problems[0]}</Text>;
  else if (!selected) body = <Text dimColor>the pipeline runs no steps</Text>;
  else if (view === "details") body = <Details step={selected} width={columns} height={budget - 3} />;
  else if (view === "logs") body = <Logs step={selected.name} lines={data.logs} height={budget - 3} />;
  else {
    const graphLines = Math.min(steps.length, 4);
    const tableRows = Math.min(steps.length, 6);
    // header, 2 blank separators, table header, chart chrome, status and keys; blanks go first when it is tight.
    const fixed = 4 + graphLines + tableRows + CANDLE_CHROME;
    const spaced = budget - fixed - 2 >= 6;
    const chartRows = budget - fixed - (spaced ? 2 : 0);
    body = (
      <>
        <Graph steps={steps} width={columns} maxLines={graphLines} />
        {spaced && <Text> </Text>}
        <StepTable steps={steps} selected={index} columns={columns} maxRows={tableRows} />
        {chartRows >= 3 && (
          <>
            {spaced && <Text> </Text>}
            <Candles view={data.candles} step={selected.name} width={Math.min(columns, 200)} height={Math.min(chartRows, 16)} />
          </>
        )}
      </>
    );
  }
  return (
    <ColorContext.Provider value={props.color !== false}>
    <Box flexDirection="column" width={columns}>
      <Text bold wrap="truncate">
        {header}
      </Text>
      {body}
      <Text color={tint(statusColor)} wrap="truncate">
        {status || " "}
      </Text>
      <Text dimColor wrap="truncate">
        {KEYS[view]}
      </Text>
    </Box>
    </ColorContext.Provider>
  );
}
