import { requireContainerImage, startContainer } from "../infra/docker.js";
import type { Log } from "../infra/process.js";
import type { RedisHandle } from "./types.js";

/** Docker Hub's Redis 7, else the same contract built from Debian's redis-server by .ci/images/build.sh. */
export const REDIS_IMAGE = "redis:7";
export const REDIS_LOCAL_IMAGE = "quixlab/redis:7-local";

/** Images tried in order: QUIXLAB_REDIS_IMAGE alone when set, else `REDIS_IMAGE`, then `REDIS_LOCAL_IMAGE`. */
export function redisImages(env: NodeJS.ProcessEnv = process.env): string[] {
  return env.QUIXLAB_REDIS_IMAGE ? [env.QUIXLAB_REDIS_IMAGE] : [REDIS_IMAGE, REDIS_LOCAL_IMAGE];
}

/** Start Redis in Docker with Testcontainers (imported lazily: only Docker users pay for it); `known` is an image found already. */
export async function startContainerRedis(log?: Log, known?: string): Promise<RedisHandle> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const remedy = "check 'docker info' and that the image can be pulled, or use --redis local or embedded";
  const imageRemedy = `build ${REDIS_LOCAL_IMAGE} with .ci/images/build.sh redis, docker pull ${REDIS_IMAGE}, or use --redis local`;
  const image = known ?? (await requireContainerImage("Redis", redisImages(), imageRemedy, { log }));
  const { container, startupMs, stop } = await startContainer("Redis", remedy, () =>
    new GenericContainer(image)
      .withExposedPorts(6379)
      .withCommand(["redis-server", "--save", "", "--appendonly", "no"])
      .withWaitStrategy(Wait.forLogMessage("Ready to accept connections"))
      .start(),
  );
  const url = `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
  log?.(`redis: ${image} (testcontainers, container ${container.getId().slice(0, 12)}) ready at ${url} in ${startupMs} ms`);
  return { url, provider: "testcontainers", startupMs, stop };
}
