/**
 * The pipeline a descriptor describes: deployments linked by the topics their InputTopic / OutputTopic
 * variables name. Pure functions over a `Descriptor`, plus text and Mermaid renderings.
 */
import { effectiveVariables } from "./inherit.js";
import { hasPlaceholder } from "./placeholders.js";
import type { AppDescriptor, Deployment, Descriptor, DeploymentType, Variable } from "./types.js";

/** The app.yaml of an application folder, for v2.0 deployments that inherit their topics from it. */
export type AppLookup = (application: string) => AppDescriptor | undefined;

function variablesOf(dep: Deployment, apps: AppLookup | undefined): readonly Variable[] {
  return apps && dep.application ? effectiveVariables(dep, apps(dep.application)) : dep.variables;
}

export interface VariableRef {
  readonly deployment: string;
  readonly variable: string;
}

export interface TopicUse {
  readonly readers: readonly VariableRef[];
  readonly writers: readonly VariableRef[];
  /** Listed under `topics:`. */
  readonly declared: boolean;
}

export interface GraphNode {
  /** `deployment:<name>` or `topic:<name>` (a deployment and a topic may share a name). */
  readonly id: string;
  readonly kind: "deployment" | "topic";
  readonly name: string;
  readonly deploymentType?: DeploymentType;
  readonly declared?: boolean;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** The variable that makes the link (its value is the topic name). */
  readonly variable: string;
}

export interface DanglingTopic {
  readonly topic: string;
  /** unwritten: read, but written by no deployment and not declared; unread: written, read by none; unused: only declared. */
  readonly problem: "unwritten" | "unread" | "unused";
  readonly severity: "error" | "info";
  readonly readers: readonly string[];
  readonly writers: readonly string[];
  readonly message: string;
}

export interface PipelineGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  /** Each cycle as node ids in order; the first node is repeated implicitly at the end. */
  readonly cycles: readonly (readonly string[])[];
  readonly danglingTopics: readonly DanglingTopic[];
}

/** Readers, writers and declaration of every topic named anywhere, in order of first mention (`apps`: v2.0 inheritance). */
export function topicUsage(d: Descriptor, apps?: AppLookup): Map<string, TopicUse> {
  const out = new Map<string, { readers: VariableRef[]; writers: VariableRef[]; declared: boolean }>();
  const use = (topic: string) => {
    const u = out.get(topic) ?? { readers: [], writers: [], declared: false };
    out.set(topic, u);
    return u;
  };
  for (const dep of d.deployments) {
    for (const v of variablesOf(dep, apps)) {
      // A {{NAME}} topic is known only per environment: not a node of its own.
      if (v.value === undefined || v.value === "" || hasPlaceholder(v.value)) continue;
      if (v.inputType === "InputTopic") use(v.value).readers.push({ deployment: dep.name, variable: v.name });
      if (v.inputType === "OutputTopic") use(v.value).writers.push({ deployment: dep.name, variable: v.name });
    }
  }
  for (const t of d.topics) use(t.name).declared = true;
  return out;
}

const MAX_CYCLES = 50;

/** Nodes, edges, cycles and dangling topics of the pipeline (`apps`: v2.0 inheritance from app.yaml). */
export function pipelineGraph(d: Descriptor, apps?: AppLookup): PipelineGraph {
  const usage = topicUsage(d, apps);
  const nodes: GraphNode[] = [
    ...d.deployments.map((x) => ({ id: depId(x.name), kind: "deployment" as const, name: x.name, deploymentType: x.deploymentType })),
    ...[...usage].map(([name, u]) => ({ id: topicId(name), kind: "topic" as const, name, declared: u.declared })),
  ];
  const edges: GraphEdge[] = [];
  for (const dep of d.deployments) {
    for (const v of variablesOf(dep, apps)) {
      // A {{NAME}} topic is known only per environment: not a node of its own.
      if (v.value === undefined || v.value === "" || hasPlaceholder(v.value)) continue;
      if (v.inputType === "InputTopic") edges.push({ from: topicId(v.value), to: depId(dep.name), variable: v.name });
      if (v.inputType === "OutputTopic") edges.push({ from: depId(dep.name), to: topicId(v.value), variable: v.name });
    }
  }
  const danglingTopics: DanglingTopic[] = [];
  for (const [topic, u] of usage) {
    const readers = [...new Set(u.readers.map((r) => r.deployment))];
    const writers = [...new Set(u.writers.map((w) => w.deployment))];
    if (readers.length > 0 && writers.length === 0 && !u.declared) {
      danglingTopics.push({ topic, problem: "unwritten", severity: "error", readers, writers, message: `topic "${topic}" is read by ${list(readers)} but written by no deployment and not declared in topics:` });
    } else if (writers.length > 0 && readers.length === 0) {
      danglingTopics.push({ topic, problem: "unread", severity: "info", readers, writers, message: `topic "${topic}" is written by ${list(writers)} and read by no deployment` });
    } else if (writers.length === 0 && readers.length === 0) {
      danglingTopics.push({ topic, problem: "unused", severity: "info", readers, writers, message: `topic "${topic}" is declared but no deployment reads or writes it` });
    }
  }
  return { nodes, edges, cycles: findCycles(nodes, edges), danglingTopics };
}

/** Elementary cycles, each reported once, starting from its earliest node (in node order). */
function findCycles(nodes: readonly GraphNode[], edges: readonly GraphEdge[]): string[][] {
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  const next = new Map<string, string[]>();
  for (const e of edges) {
    const list = next.get(e.from) ?? [];
    if (!list.includes(e.to)) list.push(e.to);
    next.set(e.from, list);
  }
  const cycles: string[][] = [];
  // Pipelines are small; a plain search from each start node, only through later nodes, finds each cycle once.
  for (const start of nodes) {
    const s = index.get(start.id)!;
    const path: string[] = [start.id];
    const onPath = new Set(path);
    const walk = (at: string): void => {
      for (const to of next.get(at) ?? []) {
        if (cycles.length >= MAX_CYCLES) return;
        if (to === start.id) cycles.push([...path]);
        else if (!onPath.has(to) && (index.get(to) ?? -1) > s) {
          path.push(to);
          onPath.add(to);
          walk(to);
          path.pop();
          onPath.delete(to);
        }
      }
    };
    walk(start.id);
  }
  return cycles;
}

/** The pipeline as an indented tree from its sources, then cycles and notes. */
export function renderGraphText(g: PipelineGraph): string {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const out = new Map<string, string[]>();
  const incoming = new Set<string>();
  for (const e of g.edges) {
    out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
    incoming.add(e.to);
  }
  const deployments = g.nodes.filter((n) => n.kind === "deployment").length;
  const lines = [`pipeline: ${deployments} deployment${deployments === 1 ? "" : "s"}, ${g.nodes.length - deployments} topic${g.nodes.length - deployments === 1 ? "" : "s"}`, ""];
  const seen = new Set<string>();
  const short = (n: GraphNode) => (n.kind === "deployment" ? `[${n.name}]` : `(${n.name})`);
  const label = (n: GraphNode) =>
    n.kind === "deployment" ? `${short(n)} ${n.deploymentType ?? ""}`.trimEnd() : `${short(n)}${n.declared ? "" : " undeclared"}`;
  const draw = (id: string, prefix: string, branch: string): void => {
    const n = byId.get(id);
    if (!n) return;
    if (seen.has(id)) {
      lines.push(`${prefix}${branch}${short(n)} ↑ see above`);
      return;
    }
    seen.add(id);
    lines.push(`${prefix}${branch}${label(n)}`);
    const kids = [...new Set(out.get(id) ?? [])];
    const childPrefix = prefix + (branch === "" ? "" : branch.startsWith("├") ? "│   " : "    ");
    for (const [i, k] of kids.entries()) draw(k, childPrefix, i === kids.length - 1 ? "└─▶ " : "├─▶ ");
  };
  for (const n of g.nodes) if (!incoming.has(n.id)) draw(n.id, "", "");
  // Whatever is left is only reachable around a cycle.
  for (const n of g.nodes) if (!seen.has(n.id)) draw(n.id, "", "");
  if (g.nodes.length === 0) lines.push("(no deployments or topics)");
  if (g.cycles.length > 0) {
    lines.push("", "cycles:");
    for (const c of g.cycles) lines.push(`  ${[...c, c[0]!].map((id) => short(byId.get(id)!)).join(" → ")}`);
  }
  if (g.danglingTopics.length > 0) {
    lines.push("", "notes:");
    for (const t of g.danglingTopics) lines.push(`  ${t.severity}: ${t.message}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The pipeline as a Mermaid `flowchart LR`: deployments as boxes, topics as rounded nodes. */
export function renderMermaid(g: PipelineGraph): string {
  const ids = new Map<string, string>();
  let d = 0;
  let t = 0;
  for (const n of g.nodes) ids.set(n.id, n.kind === "deployment" ? `d${d++}` : `t${t++}`);
  const esc = (s: string) => s.replace(/"/g, "#quot;");
  const lines = ["flowchart LR"];
  for (const n of g.nodes) {
    const id = ids.get(n.id)!;
    lines.push(n.kind === "deployment" ? `  ${id}["${esc(n.name)}"]` : `  ${id}(["${esc(n.name)}"])`);
  }
  for (const e of g.edges) lines.push(`  ${ids.get(e.from)} -->|${esc(e.variable)}| ${ids.get(e.to)}`);
  const bad = g.danglingTopics.filter((x) => x.severity === "error").map((x) => ids.get(topicId(x.topic))!);
  if (bad.length > 0) lines.push("  classDef dangling stroke:#d33,stroke-width:2px,stroke-dasharray:4", `  class ${bad.join(",")} dangling`);
  return `${lines.join("\n")}\n`;
}

function depId(name: string): string {
  return `deployment:${name}`;
}

function topicId(name: string): string {
  return `topic:${name}`;
}

function list(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(", ");
}
