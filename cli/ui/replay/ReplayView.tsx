/** @jsxRuntime automatic @jsxImportSource react */
import { Box, Static, Text } from "ink";
import type { ReplayProgress } from "../../../src/replay/replay.js";
import type { ReplayReport } from "../../../src/replay/report.js";
import { ParityReport } from "./ParityReport.js";
import { ProgressBar } from "./ProgressBar.js";

const phases: Record<ReplayProgress["phase"], string> = {
  starting: "loading the feature",
  batch: "computing the batch result",
  producing: "producing ticks to Kafka",
  processing: "waiting for the stream to finish",
  comparing: "comparing stream and batch",
  done: "done",
};

/** Live view while a replay runs (service choices logged above it); the parity report once it is done. */
export function ReplayView({ progress, report, logs = [] }: { progress: ReplayProgress; report?: ReplayReport; logs?: readonly string[] }) {
  const lines = (
    <Static items={logs.map((line, i) => ({ line, i }))}>
      {(l) => (
        <Text key={l.i} dimColor>
          {l.line}
        </Text>
      )}
    </Static>
  );
  // One tree shape throughout, so <Static> keeps what it already printed instead of printing it again.
  return (
    <Box flexDirection="column">
      {lines}
      {report ? <ParityReport report={report} /> : <Live progress={progress} />}
    </Box>
  );
}

function Live({ progress }: { progress: ReplayProgress }) {
  return (
    <Box flexDirection="column">
      <Text>
        <Text color="cyan">●</Text> {phases[progress.phase]}
        {progress.kills > 0 ? `  (chaos: ${progress.kills} kills)` : ""}
      </Text>
      <ProgressBar label="produced" value={progress.produced} total={progress.ticks} />
      <ProgressBar label="windows" value={progress.windowsReceived} total={progress.windowsExpected} />
      {progress.windowsMatched !== undefined ? (
        <Text>
          {"parity so far: "}
          <Text color="green">{progress.windowsMatched.toLocaleString("en-US")} equal</Text>
          {progress.windowsDiffering ? <Text color="red">{`, ${progress.windowsDiffering.toLocaleString("en-US")} differ`}</Text> : null}
        </Text>
      ) : null}
      <Text dimColor>{Math.round(progress.producedPerSec).toLocaleString("en-US")} ticks/s</Text>
    </Box>
  );
}
