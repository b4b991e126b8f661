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
  try {
    await jsm.streams.info(streamName);
  } catch (err) {
    if (isApiError(err, JetStreamApiCodes.StreamNotFound)) {
      throw new StreamNotReadyError(`JetStream stream ${streamName} is missing: ${HOW_TO_FIX}`, {
        cause: err,
      });
    }
    throw new StreamNotReadyError(
      `JetStream stream ${streamName} cannot be checked: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  for (const consumer of options.consumers ?? []) {
    try {
      await jsm.consumers.info(streamName, consumer);
    } catch (err) {
      if (isApiError(err, JetStreamApiCodes.ConsumerNotFound)) {
        throw new StreamNotReadyError(
          `JetStream consumer ${streamName}/${consumer} is missing: ${HOW_TO_FIX}`,
          {
            cause: err,
          },
        );
      }
      throw new StreamNotReadyError(
        `JetStream consumer ${streamName}/${consumer} cannot be checked: ${(err as Error).message}`,
        { cause: err },
      );
    }
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
