import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';

/**
 * Apps never create streams or consumers themselves (that is `npm run nats:apply`'s job, from the
 * versioned definitions); they check at start-up that what they need exists, and fail loudly if not.
 */
export interface StreamReadinessOptions {
  /** Durable consumers of the stream the app also needs. */
  readonly consumers?: readonly string[];
}

export class StreamNotReadyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StreamNotReadyError';
  }
}

const HOW_TO_FIX = 'run `npm run nats:apply` (with the same NATS_URL and TALLY_* settings) to create it';

/** Resolves when the stream (and the listed consumers) exist; throws StreamNotReadyError otherwise. */
export async function assertStreamReady(
  jsm: JetStreamManager,
  streamName: string,
  options: StreamReadinessOptions = {},
): Promise<void> {
  await check(`stream ${streamName}`, JetStreamApiCodes.StreamNotFound, () => jsm.streams.info(streamName));
  for (const consumer of options.consumers ?? []) {
    await check(`consumer ${streamName}/${consumer}`, JetStreamApiCodes.ConsumerNotFound, () =>
      jsm.consumers.info(streamName, consumer),
    );
  }
}

/** Runs one lookup; a "not found" answer says how to fix it, any other failure says why it failed. */
async function check(what: string, notFoundCode: number, lookup: () => Promise<unknown>): Promise<void> {
  try {
    await lookup();
  } catch (err) {
    const reason = isApiError(err, notFoundCode)
      ? `is missing: ${HOW_TO_FIX}`
      : `cannot be checked: ${(err as Error).message}`;
    throw new StreamNotReadyError(`JetStream ${what} ${reason}`, { cause: err });
  }
}

/** The same check as a boolean, for /health/ready: false on any failure, never throws. */
export async function isStreamReady(
  jsm: JetStreamManager,
  streamName: string,
  options: StreamReadinessOptions = {},
): Promise<boolean> {
  try {
    await assertStreamReady(jsm, streamName, options);
    return true;
  } catch {
    return false;
  }
}

function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}
