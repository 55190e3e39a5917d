import { connect, type Socket } from "node:net";
import { CORRELATION_AT } from "./wire.js";

/** The connection broke (or a request timed out): every request on it failed, and may be sent again. */
export class ConnectionLost extends Error {
  readonly retriable = true;
}

interface Waiting {
  id: number;
  resolve(body: Buffer): void;
  reject(e: Error): void;
}

/**
 * One plain TCP connection to a broker. Requests are whole frames (wire.ts); the correlation id is written into
 * the frame at each send. A broker answers a connection's requests in order, so the waiting ones are a FIFO. A
 * timeout or a socket error ends the connection and fails everything waiting on it with `ConnectionLost`.
 */
export class BrokerSocket {
  private readonly waiting: Waiting[] = [];
  private nextId = 1;
  private input: Buffer = Buffer.alloc(0);
  private timer: NodeJS.Timeout | undefined;
  closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    private readonly timeoutMs: number,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (d: Buffer) => this.onData(d));
    socket.on("error", (e) => this.fail(new ConnectionLost(`${address}: ${e.message}`, { cause: e })));
    socket.on("close", () => this.fail(new ConnectionLost(`${address}: connection closed`)));
  }

  /** Connect within `timeoutMs`. */
  static open(host: string, port: number, timeoutMs: number): Promise<BrokerSocket> {
    const address = `${host}:${port}`;
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      const t = setTimeout(() => {
        s.destroy();
        reject(new ConnectionLost(`${address}: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once("error", (e) => {
        clearTimeout(t);
        reject(new ConnectionLost(`${address}: ${e.message}`, { cause: e }));
      });
      s.once("connect", () => {
        clearTimeout(t);
        s.removeAllListeners("error");
        resolve(new BrokerSocket(s, address, timeoutMs));
      });
    });
  }

  /** Send a frame, resolve with the response body (after the correlation id). */
  request(frame: Buffer): Promise<Buffer> {
    if (this.closed) return Promise.reject(new ConnectionLost(`${this.address}: connection closed`));
    const id = this.nextId++;
    frame.writeInt32BE(id, CORRELATION_AT);
    return new Promise((resolve, reject) => {
      this.waiting.push({ id, resolve, reject });
      this.socket.write(frame);
      this.timer ??= setTimeout(() => this.onTimeout(), this.timeoutMs);
    });
  }

  /** Requests sent and not answered yet. */
  get inFlight(): number {
    return this.waiting.length;
  }

  close(): void {
    this.fail(new ConnectionLost(`${this.address}: closed by the producer`));
  }

  private onTimeout(): void {
    this.timer = undefined;
    if (this.waiting.length) this.fail(new ConnectionLost(`${this.address}: no response within ${this.timeoutMs} ms`));
  }

  private onData(d: Buffer): void {
    this.input = this.input.length ? Buffer.concat([this.input, d]) : d;
    let at = 0;
    while (this.input.length - at >= 4) {
      const size = this.input.readInt32BE(at);
      if (this.input.length - at - 4 < size) break;
      const id = this.input.readInt32BE(at + 4);
      const body = this.input.subarray(at + 8, at + 4 + size);
      at += 4 + size;
      const w = this.waiting.shift();
      if (!w || w.id !== id) {
        this.fail(new ConnectionLost(`${this.address}: response ${id} out of order (expected ${w?.id})`));
        return;
      }
      w.resolve(body);
    }
    this.input = at === this.input.length ? Buffer.alloc(0) : this.input.subarray(at);
    // The timer covers the oldest request: restart it for the next one.
    if (this.timer) clearTimeout(this.timer);
    this.timer = this.waiting.length ? setTimeout(() => this.onTimeout(), this.timeoutMs) : undefined;
  }

  private fail(e: Error): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.closed) {
      this.closed = true;
      this.socket.destroy();
    }
    for (const w of this.waiting.splice(0)) w.reject(e);
  }
}
