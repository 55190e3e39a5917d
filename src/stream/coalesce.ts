import type { OutMessage, Producer } from "../kafka/index.js";

/**
 * A producer's sends, coalesced: while one request is in flight, the sends that arrive meanwhile wait together and
 * go as the next request (kafkajs allows one in flight with idempotence, so each would otherwise wait for every
 * one queued before it: with a window closing on every partition at once, the last partition waited for all).
 * Order is kept: a send's messages go after those of every send before it, so each partition keeps the order
 * sent. A failed request fails every send in it.
 */
export class CoalescingSender {
  private inFlight = false;
  private next: { messages: OutMessage[]; done: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | undefined;

  constructor(private readonly producer: Pick<Producer, "send">) {}

  /** Resolves once every message is acknowledged (nothing to send: at once). */
  send(messages: readonly OutMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    if (!this.inFlight) return this.run([...messages]);
    if (!this.next) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.next = { messages: [], done, resolve, reject };
    }
    for (const m of messages) this.next.messages.push(m);
    return this.next.done;
  }

  private async run(messages: OutMessage[]): Promise<void> {
    this.inFlight = true;
    try {
      await this.producer.send(messages);
    } finally {
      const next = this.next;
      this.next = undefined;
      this.inFlight = false;
      if (next) this.run(next.messages).then(next.resolve, next.reject);
    }
  }
}
