/**
 * The validated, typed view of a Quix project descriptor (`quix.yaml`) and of an application's `app.yaml`, as
 * Quix documents them (quix-docs: projects/yaml-2-0.md, projects/project-structure.md,
 * deployments/project-variables.md; quix-cli: yaml-reference/pipeline-descriptor.md, app-descriptor.md).
 * Values of these types come out of `loadDescriptor` / `loadAppDescriptor` frozen; the editable form is the
 * `yaml.Document` they return alongside.
 */

/** Quix's documented variable input types. `Secret` (with `secretKey`) is the legacy form of a secret `ProjectVariable`. */
export const INPUT_TYPES = ["InputTopic", "OutputTopic", "FreeText", "HiddenText", "Secret", "Options", "ProjectVariable", "VariableGroup"] as const;
export type InputType = (typeof INPUT_TYPES)[number];

/** `Managed`: a Quix-maintained image chosen by `application`, set up through `configuration:`. */
export const DEPLOYMENT_TYPES = ["Service", "Job", "Managed"] as const;
export type DeploymentType = (typeof DEPLOYMENT_TYPES)[number];

export const DESIRED_STATUSES = ["Running", "Stopped"] as const;
export type DesiredStatus = (typeof DESIRED_STATUSES)[number];

/** A topic's `configuration.cleanupPolicy`: the three quix-streams maps (platforms/quix/config.py). */
export const CLEANUP_POLICIES = ["Delete", "Compact", "DeleteAndCompact"] as const;
export type CleanupPolicy = (typeof CLEANUP_POLICIES)[number];

/**
 * A deployment variable as quix.yaml writes it; it reaches the running step as an environment variable of the
 * same name. Under `metadata.version: 2.0` an entry is an override of the app.yaml variable of the same name
 * (matched case-insensitively) and may carry only `name` and `value`; `effectiveVariables` gives the merged view.
 */
export interface Variable {
  readonly name: string;
  /** Absent only in a v2.0 override (inherited from app.yaml). */
  readonly inputType?: InputType;
  readonly description?: string;
  /** Absent when the file does not say (v1: means false; v2.0: inherited). */
  readonly required?: boolean;
  /** Always text: environment variables are strings (`value: 100` reads as "100"). May hold `{{NAME}}` placeholders. */
  readonly value?: string;
  /** Legacy `Secret` variables: the key of the secret, not its value. */
  readonly secretKey?: string;
  /** `ProjectVariable`: the key of the project variable to read. */
  readonly variableKey?: string;
  readonly secret?: boolean;
  readonly multiline?: boolean;
  readonly variableGroupId?: string;
  readonly variableGroupName?: string;
  readonly variableGroupDescription?: string;
}

/** A variable as the deployment receives it (app.yaml merged with quix.yaml); see `effectiveVariables`. */
export interface EffectiveVariable extends Variable {
  readonly inputType: InputType;
  readonly required: boolean;
  /** Where the value comes from: the deployment's own entry, the app.yaml default, or neither. */
  readonly source: "deployment" | "app" | "none";
}

/** cpu in millicores, memory in MB. `form` remembers which of Quix's two documented layouts the file uses. */
export interface Resources {
  readonly cpu: number;
  readonly memory: number;
  readonly replicas: number;
  readonly form: "flat" | "limits";
}

/**
 * What Quix allocates when a deployment leaves `resources` (or one of its fields) out: the sizes Quix's library
 * items and documentation examples use (cpu 200 millicores, memory 500 MB, one replica).
 */
export const RESOURCE_DEFAULTS: Readonly<Omit<Resources, "form">> = Object.freeze({ cpu: 200, memory: 500, replicas: 1 });

export interface Deployment {
  readonly name: string;
  /** The application folder (the one holding its app.yaml); for a Managed deployment, the managed service's id. */
  readonly application?: string;
  /** A prebuilt image, Quix's alternative to an application folder. */
  readonly image?: string;
  readonly version?: string;
  readonly deploymentType: DeploymentType;
  /** Always filled: Quix's defaults (`RESOURCE_DEFAULTS`) where the file says nothing; see `resourcesDeclared`. */
  readonly resources: Resources;
  /** True when the file has a `resources:` mapping (its missing fields are still defaulted). */
  readonly resourcesDeclared: boolean;
  readonly desiredStatus?: DesiredStatus;
  /** `disabled: true`: Quix keeps the deployment but does not start it. Default false. */
  readonly disabled: boolean;
  readonly group?: string;
  /** True under v2.0 rules (application + version, not Managed): variables are inherited from app.yaml. */
  readonly inherits: boolean;
  /** The variables as written (v2.0: overrides only); `effectiveVariables` gives what the step receives. */
  readonly variables: readonly Variable[];
  /** A Managed deployment's `configuration:` (service-specific keys), as plain data. */
  readonly configuration?: Readonly<Record<string, unknown>>;
  /** Every other key of the entry (publicAccess, network, state, plugin, blobStorage, ...), as plain data. */
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface TopicConfiguration {
  readonly partitions: number;
  readonly replicationFactor: number;
  /** -1 keeps messages forever. */
  readonly retentionInMinutes: number;
  /** -1 means no size limit. */
  readonly retentionInBytes: number;
  /** Absent when the file does not set it (Kafka's default, Delete). */
  readonly cleanupPolicy?: CleanupPolicy;
}

export interface Topic {
  readonly name: string;
  readonly persisted: boolean;
  readonly configuration: TopicConfiguration;
}

export interface Descriptor {
  /** The text as written (`1.0`, `2.0`); `descriptorVersion` reads it as a number. */
  readonly metadata: { readonly version: string };
  readonly deployments: readonly Deployment[];
  readonly topics: readonly Topic[];
}

/** One entry of an `Options` variable's list: `label` is shown, `value` is what the variable is set to. */
export interface VariableOption {
  readonly label?: string;
  readonly value: string;
}

/** A member of a `VariableGroup` variable (its values come from the group's value set, or `.quix.yaml.variables`). */
export interface GroupMember {
  readonly key: string;
  readonly description?: string;
  readonly defaultValue?: string;
  readonly secret?: boolean;
  readonly required?: boolean;
}

export interface AppVariable {
  readonly name: string;
  readonly inputType: InputType;
  readonly description?: string;
  /** The value; for a `ProjectVariable`, the project variable's key. */
  readonly defaultValue?: string;
  readonly required: boolean;
  readonly secret?: boolean;
  readonly secretKey?: string;
  readonly multiline?: boolean;
  /** `Options` only. */
  readonly options?: readonly VariableOption[];
  readonly variableGroupId?: string;
  readonly variableGroupName?: string;
  readonly variableGroupDescription?: string;
  /** `VariableGroup` only: the group's members. */
  readonly members?: readonly GroupMember[];
}

export interface AppDescriptor {
  readonly name: string;
  /** Any text: Quix writes `python`, `nodejs`, `docker`, ...; quixlab's own apps may say `typescript`. */
  readonly language: string;
  readonly variables: readonly AppVariable[];
  readonly dockerfile: string;
  /** Optional in Quix: most public app.yaml files have none (the Dockerfile says what runs). */
  readonly runEntryPoint?: string;
  readonly defaultFile?: string;
  readonly includedFolders?: readonly string[];
}

/**
 * Topic settings used when a topic is added without explicit configuration. They are the values Quix's own
 * examples use; a local single-broker run must cap replicationFactor at the number of brokers it has.
 */
export const TOPIC_DEFAULTS: TopicConfiguration = Object.freeze({
  partitions: 1,
  replicationFactor: 2,
  retentionInMinutes: 1440,
  retentionInBytes: 262144000,
});

export type DescriptorErrorCode =
  | "yaml-syntax"
  | "not-a-mapping"
  | "missing-field"
  | "wrong-type"
  | "unknown-input-type"
  | "unknown-deployment-type"
  | "unknown-desired-status"
  | "unknown-cleanup-policy"
  | "duplicate-deployment"
  | "duplicate-topic"
  | "duplicate-variable"
  | "unknown-topic"
  | "invalid-topic-name"
  | "invalid-replicas"
  | "invalid-resource"
  | "conflicting-resources"
  | "invalid-topic-config"
  | "invalid-option"
  | "missing-options"
  | "unresolved-placeholder"
  | "missing-app";

/** One problem found in a descriptor file, located at a 1-based line and column. */
export interface DescriptorError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly code: DescriptorErrorCode;
  readonly message: string;
  readonly remedy: string;
  /** Where in the document, e.g. `deployments[1].resources.replicas`. */
  readonly path: string;
}

/** A `{{NAME}}` placeholder found in a file, located like an error. */
export interface Placeholder {
  readonly name: string;
  readonly line: number;
  readonly column: number;
}
