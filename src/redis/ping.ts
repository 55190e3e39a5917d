import { Redis } from "ioredis";

/** One PING with no retries; resolves true when Redis at `url` answers PONG, false otherwise. */
export async function pingRedis(url: string, timeoutMs = 1_000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    // ioredis arms this timer on disconnect even when the socket is already closed (a refused connect), and it
    // would hold the event loop open for the default 2 s.
    disconnectTimeout: 50,
  });
  // Connection errors surface through connect()/ping(); without a listener ioredis would also print them.
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
