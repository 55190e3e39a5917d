import { request } from "node:http";

/** Where the Docker engine would answer: DOCKER_HOST (unix:// or tcp://), else the default socket. */
export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): { socketPath: string } | { host: string; port: number } {
  const host = env.DOCKER_HOST;
  if (host?.startsWith("tcp://")) {
    const url = new URL(host.replace(/^tcp:/, "http:"));
    return { host: url.hostname, port: Number(url.port || 2375) };
  }
  if (host?.startsWith("unix://")) return { socketPath: host.slice("unix://".length) };
  return { socketPath: "/var/run/docker.sock" };
}

/** Whether a Docker engine answers `GET /_ping` within `timeoutMs` (fast: no socket fails at once). */
export function dockerAvailable(env: NodeJS.ProcessEnv = process.env, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ ...dockerEndpoint(env), path: "/_ping", method: "GET", timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}
