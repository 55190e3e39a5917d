import { InputError } from "../../errors/index.js";

/** The variables Quix Cloud injects into a deployment (the names quix-streams reads, platforms/quix/env.py). */
export const QUIX_ENV = {
  sdkToken: "Quix__Sdk__Token",
  portalApi: "Quix__Portal__Api",
  workspaceId: "Quix__Workspace__Id",
  /** Set only locally, by `quix pipeline up`: a plain broker address that wins over the token. */
  brokerAddress: "Quix__Broker__Address",
} as const;

/** How to reach a workspace's Portal API. */
export interface QuixCloudCredentials {
  token: string;
  /** Base URL of the Portal API, e.g. `https://portal-api.platform.quix.io/`. */
  portalApi: string;
  /** The workspace; when unset, the token's only workspace (quix-streams can also look it up by a known topic; quixlab does not). */
  workspaceId?: string;
}

const value = (v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : v.trim());

/**
 * The Quix Cloud credentials of an environment, or undefined when `Quix__Sdk__Token` is unset. Like quix-streams,
 * a token without `Quix__Portal__Api` is an error; the workspace id may be left to the API.
 * @example quixCloudCredentials(process.env) // { token, portalApi, workspaceId } on Quix Cloud
 */
export function quixCloudCredentials(env: NodeJS.ProcessEnv): QuixCloudCredentials | undefined {
  const token = value(env[QUIX_ENV.sdkToken]);
  if (!token) return undefined;
  const portalApi = value(env[QUIX_ENV.portalApi]);
  if (!portalApi) {
    throw new InputError(`${QUIX_ENV.sdkToken} is set but ${QUIX_ENV.portalApi} is not`, {
      remedy: `set ${QUIX_ENV.portalApi} to the Portal API URL (Quix Cloud injects it), or unset ${QUIX_ENV.sdkToken} and give a broker address`,
      context: { field: QUIX_ENV.portalApi },
    });
  }
  if (!/^https?:\/\//.test(portalApi)) {
    throw new InputError(`bad ${QUIX_ENV.portalApi} '${portalApi}'`, { remedy: "give an http(s):// URL", context: { field: QUIX_ENV.portalApi } });
  }
  const workspaceId = value(env[QUIX_ENV.workspaceId]);
  return { token, portalApi, ...(workspaceId ? { workspaceId } : {}) };
}
