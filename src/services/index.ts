export { dockerAvailable, dockerEndpoint } from "./docker.js";
export {
  type Live,
  type ServicesStatus,
  type ServicesUpOptions,
  type ServicesUpResult,
  servicesDown,
  servicesStatus,
  servicesUp,
} from "./lifecycle.js";
export { withLock } from "./lock.js";
export { type Log, onProcessExit, pidAlive, requireProgram, stopPid, which } from "./process.js";
export { type BrokerRecord, type RedisRecord, readServices, type ServiceRecord, type ServicesState, servicesFile, writeServices } from "./state.js";
