/**
 * Produce in arrival order with one request in flight: what arrives while a request is out waits and goes in the
 * next one, so a busy feed is sent in batches and a quiet one message by message, never out of order.
 */
import type { OutMessage, Producer } from "../kafka/index.js";

export class Sender {
  private pending: OutMessage[] = [];
  private inFlight: Promise<void> | undefined;
  private failure: unknown;

  /** `onAcked(n)` after each acknowledged request; `onError` once, when a send fails for good. */
  constructor(
    private readonly producer: Producer,
    private readonly onAcked: (n: number) => void,
    private readonly onError: (e: unknown) => void,
  ) {}

  push(m: OutMessage): void {
    if (this.failure !== undefined) return;
    this.pending.push(m);
    if (!this.inFlight) this.inFlight = this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        await this.producer.send(batch);
        this.onAcked(batch.length);
      }
    } catch (e) {
      this.failure = e;
      this.pending = [];
      this.onError(e);
    } finally {
      this.inFlight = undefined;
    }
  }

  /** Resolves once everything pushed so far is acknowledged (or has failed). */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }
}
