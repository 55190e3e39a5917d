/** The pipeline's steps in topic-flow order (pure): sources first, then what reads their topics, then downstream. */

export interface FlowNode {
  name: string;
  role: "source" | "step";
  inputs: readonly string[];
  outputs: readonly string[];
}

/**
 * Each step's rank in the topic flow: 0 for a source; otherwise 1 + the highest rank among the steps that write
 * a topic it reads (a topic nobody in the pipeline writes counts as rank 0, as if an outside source fed it).
 * A cycle cannot raise a rank past the number of steps.
 * @example flowRanks([{ name: "c", role: "step", inputs: ["ticks"], outputs: [] }, { name: "s", role: "source", inputs: [], outputs: ["ticks"] }]) // { c: 1, s: 0 }
 */
export function flowRanks(nodes: readonly FlowNode[]): Record<string, number> {
  const writers = new Map<string, FlowNode[]>();
  for (const n of nodes) for (const t of n.outputs) writers.set(t, [...(writers.get(t) ?? []), n]);
  const rank: Record<string, number> = {};
  for (const n of nodes) rank[n.name] = n.role === "source" ? 0 : 1;
  // Longest path by relaxation; at most one pass per node settles a DAG, and the cap ends a cycle.
  for (let pass = 0; pass < nodes.length; pass++) {
    let changed = false;
    for (const n of nodes) {
      if (n.role === "source") continue;
      let r = 1;
      for (const t of n.inputs) for (const w of writers.get(t) ?? []) if (w !== n) r = Math.max(r, rank[w.name]! + 1);
      r = Math.min(r, nodes.length);
      if (r !== rank[n.name]) {
        rank[n.name] = r;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return rank;
}

/** `nodes` sorted by flow rank, keeping the descriptor's order within a rank; each with its rank. */
export function orderByFlow<T extends FlowNode>(nodes: readonly T[]): (T & { rank: number })[] {
  const rank = flowRanks(nodes);
  return nodes
    .map((n, i) => ({ n, i, r: rank[n.name]! }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map(({ n, r }) => ({ ...n, rank: r }));
}
