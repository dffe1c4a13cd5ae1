/**
 * A TCP proxy in front of one Kafka listener that reads the protocol's framing (every request and
 * response is a 4-byte length, then the frame; a request's header starts with its API key and
 * correlation id, a response's with the correlation id) and can lose one Produce answer:
 *
 *   client ──Produce (correlation 7)──► proxy ──► broker        the broker writes the records
 *   client ◄──── nothing; connection reset ──── proxy ◄── answer 7   the answer is dropped
 *   then every connection is closed, and new ones refused until heal()   the client's own retries fail too
 *
 * So the broker has written a batch its producer never heard about, and the client library's
 * retries cannot hide it: the failure reaches the caller. The broker must advertise the proxy's
 * address for this listener (scripts/services/kafka/server.properties: 9097 advertised as 9096), or
 * clients would open their produce connections to the broker itself after the first metadata.
 */
import type { Socket } from 'node:net';
import { TcpProxy, type Target } from './tcp-proxy.js';

const PRODUCE = 0;

/** Splits a byte stream into Kafka frames (length prefix included), keeping a partial frame for later. */
class Frames {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: Buffer[] = [];
    while (this.#pending.length >= 4) {
      const size = this.#pending.readInt32BE(0);
      if (this.#pending.length < 4 + size) break;
      frames.push(this.#pending.subarray(0, 4 + size));
      this.#pending = this.#pending.subarray(4 + size);
    }
    return frames;
  }
}

export class KafkaFaultProxy extends TcpProxy {
  #armed = false;
  #refusing = false;
  /** Produce answers dropped so far. */
  lostAnswers = 0;
  /** Produce requests forwarded so far (each written or refused by the broker). */
  produces = 0;

  constructor(private readonly target: Target) {
    super();
  }

  /** The next Produce request is forwarded, its answer dropped, its connection reset; then new connections are refused until heal(). */
  loseNextProduceAnswer(): void {
    this.#armed = true;
  }

  heal(): void {
    this.#refusing = false;
  }

  protected accept(client: Socket): void {
    if (this.#refusing) {
      client.destroy();
      return;
    }
    const broker = this.connect(this.target);
    const doomed = new Set<number>();
    const requests = new Frames();
    const answers = new Frames();
    client.on('data', (chunk: Buffer) => {
      for (const frame of requests.push(chunk)) {
        if (frame.readInt16BE(4) === PRODUCE) {
          this.produces++;
          if (this.#armed) {
            this.#armed = false;
            doomed.add(frame.readInt32BE(8));
          }
        }
        broker.write(frame);
      }
    });
    broker.on('data', (chunk: Buffer) => {
      for (const frame of answers.push(chunk)) {
        if (doomed.has(frame.readInt32BE(4))) {
          this.lostAnswers++;
          this.#refusing = true;
          // Every connection: a retry over another open connection would get the broker's duplicate answer.
          this.dropAll();
          return;
        }
        client.write(frame);
      }
    });
    // One side gone: the other with it, as a broker's closed connection would be.
    client.on('close', () => broker.destroy());
    broker.on('close', () => client.destroy());
  }
}
