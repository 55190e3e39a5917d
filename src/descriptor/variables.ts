/**
 * Readers of one variable entry: a deployment's in quix.yaml (full in v1.0, an override in v2.0) and an
 * application's in app.yaml (with its `options:` or a group's members). Cross-file checks (topics, options a
 * deployment picks, required values) live in crosscheck.ts, which sees both files.
 */
import type { Fields } from "./fields.js";
import { hasPlaceholder } from "./placeholders.js";
import { type AppVariable, type GroupMember, INPUT_TYPES, type InputType, type Variable, type VariableOption } from "./types.js";

/** Kafka's own rule for topic names. */
export const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

const NAME_REMEDY = "name the variable (it becomes an environment variable of that name)";

/**
 * A deployment's variable. `inherits`: a v2.0 override, where only `name` is needed and everything else may come
 * from app.yaml; otherwise the entry must say its `inputType`. A required variable left without a value is not a
 * file error: Quix's own templates ship such blanks for the user to fill in, and Quix refuses only to start the
 * deployment (`quixlab up` says so when it plans the run).
 */
export function readDeploymentVariable(v: Fields, deployment: string, inherits: boolean): Variable | undefined {
  const name = v.string("name", { required: true, remedy: NAME_REMEDY });
  if (name === undefined) return undefined;
  v.label = `variable "${name}" of deployment "${deployment}"`;
  const inputType = v.oneOf<InputType>("inputType", INPUT_TYPES, "unknown-input-type", {
    required: !inherits,
    remedy: `set inputType: to one of ${INPUT_TYPES.join(", ")} (or use metadata.version: 2.0 to inherit it from app.yaml)`,
  });
  const common = readCommon(v);
  const value = v.text("value");
  const variableKey = v.string("variableKey");
  const secretKey = v.string("secretKey");
  const required = v.boolean("required");
  checkTopicName(v, inputType, value);
  return {
    name,
    ...(inputType !== undefined && { inputType }),
    ...common,
    ...(required !== undefined && { required }),
    ...(value !== undefined && { value }),
    ...(secretKey !== undefined && { secretKey }),
    ...(variableKey !== undefined && { variableKey }),
  };
}

/** An app.yaml variable, with its `options:` (Options) or its members (VariableGroup). */
export function readAppVariable(v: Fields): AppVariable | undefined {
  const name = v.string("name", { required: true, remedy: NAME_REMEDY });
  if (name === undefined) return undefined;
  v.label = `variable "${name}"`;
  const inputType = v.oneOf<InputType>("inputType", INPUT_TYPES, "unknown-input-type", { required: true }) ?? "FreeText";
  const common = readCommon(v);
  const defaultValue = v.text("defaultValue");
  const secretKey = v.string("secretKey");
  const required = v.boolean("required") ?? false;
  checkTopicName(v, inputType, defaultValue, "defaultValue");
  let options: VariableOption[] | undefined;
  if (inputType === "Options") {
    options = [];
    const list = options;
    v.items("options", (o) => {
      o.label = `option of variable "${name}"`;
      const value = o.text("value", { required: true, remedy: "give each option a value: (and a label: to show)" });
      const label = o.text("label");
      if (value !== undefined) list.push({ ...(label !== undefined && { label }), value });
    });
    if (!v.has("options")) v.missing("options", "list the choices under options:, each as '- label: ...' and 'value: ...'");
    else if (defaultValue !== undefined && !hasPlaceholder(defaultValue) && list.length > 0 && !list.some((o) => o.value === defaultValue)) {
      v.report("defaultValue", "invalid-option", `${v.label}: defaultValue "${defaultValue}" is not one of its options (${list.map((o) => o.value).join(", ")})`, "set defaultValue: to the value: of one of the options, or add that option");
    }
  }
  let members: GroupMember[] | undefined;
  if (inputType === "VariableGroup" && v.has("variables")) {
    members = [];
    const list = members;
    v.items("variables", (m) => {
      m.label = `member of variable group "${name}"`;
      const key = m.string("key", { required: true, remedy: "give each member of the group its key:" });
      if (key === undefined) return;
      const description = m.text("description");
      const dv = m.text("defaultValue");
      const secret = m.boolean("secret");
      const req = m.boolean("required");
      list.push({ key, ...(description !== undefined && { description }), ...(dv !== undefined && { defaultValue: dv }), ...(secret !== undefined && { secret }), ...(req !== undefined && { required: req }) });
    });
  }
  return {
    name,
    inputType,
    ...common,
    ...(defaultValue !== undefined && { defaultValue }),
    required,
    ...(secretKey !== undefined && { secretKey }),
    ...(options !== undefined && { options }),
    ...(members !== undefined && { members }),
  };
}

/** The fields both files write the same way. */
function readCommon(v: Fields): Pick<Variable, "description" | "secret" | "multiline" | "variableGroupId" | "variableGroupName" | "variableGroupDescription"> {
  const description = v.text("description");
  const secret = v.boolean("secret");
  const multiline = v.boolean("multiline");
  const variableGroupId = v.text("variableGroupId");
  const variableGroupName = v.text("variableGroupName");
  const variableGroupDescription = v.text("variableGroupDescription");
  return {
    ...(description !== undefined && { description }),
    ...(secret !== undefined && { secret }),
    ...(multiline !== undefined && { multiline }),
    ...(variableGroupId !== undefined && { variableGroupId }),
    ...(variableGroupName !== undefined && { variableGroupName }),
    ...(variableGroupDescription !== undefined && { variableGroupDescription }),
  };
}

function checkTopicName(v: Fields, inputType: InputType | undefined, value: string | undefined, key = "value"): void {
  if ((inputType !== "InputTopic" && inputType !== "OutputTopic") || value === undefined || value === "" || hasPlaceholder(value)) return;
  if (!TOPIC_NAME.test(value)) v.report(key, "invalid-topic-name", `${v.label}: "${value}" is not a valid topic name`, "use letters, digits, '.', '_' and '-' only (at most 249)");
}
