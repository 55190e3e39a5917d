/** The Quix Cloud connection (README.md in src/kafka/): Portal API, broker settings, topic ids, group prefix. */
export { type NewPortalTopic, PortalApi, type PortalApiOptions, type PortalTopic } from "./api.js";
export { clearQuixCloudCache, connectQuixCloud, QuixCloud, type QuixCloudOptions } from "./cloud.js";
export { QUIX_ENV, type QuixCloudCredentials, quixCloudCredentials } from "./env.js";
export { QuixCloudError, QuixTopicError } from "./errors.js";
export { connectionFromLibrdkafka, prependWorkspaceId, stripWorkspaceIdPrefix } from "./settings.js";
