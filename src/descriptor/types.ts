/**
 * The validated, typed view of a Quix-style project descriptor (`quix.yaml`) and of an application's `app.yaml`.
 * Values of these types come out of `loadDescriptor` / `loadAppDescriptor` frozen; the editable form is the
 * `yaml.Document` they return alongside.
 */

export const INPUT_TYPES = ["InputTopic", "OutputTopic", "FreeText", "HiddenText", "Secret"] as const;
export type InputType = (typeof INPUT_TYPES)[number];

export const DEPLOYMENT_TYPES = ["Service", "Job"] as const;
export type DeploymentType = (typeof DEPLOYMENT_TYPES)[number];

export const DESIRED_STATUSES = ["Running", "Stopped"] as const;
export type DesiredStatus = (typeof DESIRED_STATUSES)[number];

/** A deployment variable; it reaches the running step as an environment variable of the same name. */
export interface Variable {
  readonly name: string;
  readonly inputType: InputType;
  readonly description?: string;
  readonly required: boolean;
  /** Always text: environment variables are strings (`value: 100` reads as "100"). */
  readonly value?: string;
  /** Quix stores Secret variables as a reference to a secret, not as a value. */
  readonly secretKey?: string;
}

/** cpu in millicores, memory in MB. `form` remembers which of Quix's two documented layouts the file uses. */
export interface Resources {
  readonly cpu: number;
  readonly memory: number;
  readonly replicas: number;
  readonly form: "flat" | "limits";
}

export interface Deployment {
  readonly name: string;
  /** The application folder (the one holding its app.yaml). */
  readonly application?: string;
  /** A prebuilt image, Quix's alternative to an application folder. */
  readonly image?: string;
  readonly version?: string;
  readonly deploymentType: DeploymentType;
  readonly resources: Resources;
  readonly desiredStatus?: DesiredStatus;
  readonly variables: readonly Variable[];
}

export interface TopicConfiguration {
  readonly partitions: number;
  readonly replicationFactor: number;
  /** -1 keeps messages forever. */
  readonly retentionInMinutes: number;
  /** -1 means no size limit. */
  readonly retentionInBytes: number;
}

export interface Topic {
  readonly name: string;
  readonly persisted: boolean;
  readonly configuration: TopicConfiguration;
}

export interface Descriptor {
  readonly metadata: { readonly version: string };
  readonly deployments: readonly Deployment[];
  readonly topics: readonly Topic[];
}

export interface AppVariable {
  readonly name: string;
  readonly inputType: InputType;
  readonly description?: string;
  readonly defaultValue?: string;
  readonly required: boolean;
}

export interface AppDescriptor {
  readonly name: string;
  readonly language: string;
  readonly variables: readonly AppVariable[];
  readonly dockerfile: string;
  readonly runEntryPoint: string;
  readonly defaultFile?: string;
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
  | "duplicate-deployment"
  | "duplicate-topic"
  | "duplicate-variable"
  | "unknown-topic"
  | "invalid-topic-name"
  | "invalid-replicas"
  | "invalid-resource"
  | "conflicting-resources"
  | "invalid-topic-config";

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
