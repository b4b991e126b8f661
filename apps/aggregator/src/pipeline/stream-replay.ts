import type { JetStreamClient } from '@nats-io/jetstream';
import type { InboundMessage } from '@tally/nats';

/**
 * Reads the stream from `fromSeq` to its current end with an ordered consumer (ephemeral,
 * in order, no acks, recreated by the client on a gap), handing each message to `onMessage`.
 * This is how a restarted aggregator catches up from its snapshot: the durable consumer may
 * have acked past the snapshot, so the stream itself, not the consumer, is replayed.
 * Returns the number of messages replayed.
 */
export async function replayStream(
  js: JetStreamClient,
  stream: string,
  filterSubject: string,
  fromSeq: number,
  onMessage: (message: InboundMessage) => void,
  batch = 10_000,
): Promise<number> {
  const jsm = await js.jetstreamManager();
  const info = await jsm.streams.info(stream);
  if (info.state.messages === 0 || fromSeq > info.state.last_seq) return 0;
  const consumer = await js.consumers.get(stream, {
    // A single subject as a string: sent as filter_subject, which servers before 2.10 understand.
    filter_subjects: filterSubject,
    opt_start_seq: Math.max(fromSeq, 1),
  });
  let replayed = 0;
  for (;;) {
    const pull = await consumer.fetch({ max_messages: batch, expires: 1000 });
    let received = 0;
    let caughtUp = false;
    for await (const message of pull) {
      received++;
      onMessage(message as unknown as InboundMessage);
      if (message.info.pending === 0) {
        // Caught up with the stream as it was a moment ago: stop waiting for the pull to fill.
        caughtUp = true;
        break;
      }
    }
    replayed += received;
    if (caughtUp || received === 0) return replayed;
  }
}
