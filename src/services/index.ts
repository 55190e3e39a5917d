export {
  type Live,
  type ServicesStatus,
  type ServicesUpOptions,
  type ServicesRestartOptions,
  type ServicesRestartResult,
  type ServicesUpResult,
  servicesDown,
  servicesRestart,
  servicesStatus,
  servicesUp,
} from "./lifecycle.js";
export { type BrokerRecord, type RedisRecord, readServices, type ServiceRecord, type ServicesState, servicesFile, writeServices } from "./state.js";
