import {
  type ConsumerUpdateConfig,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type StreamUpdateConfig,
} from '@nats-io/jetstream';
import {
  type DefinitionKind,
  diffConfig,
  type FieldDiff,
  formatFieldDiff,
  updateConflicts,
} from './config-diff.js';
import type { ConsumerDefinition, NatsDefinitions, StreamDefinition } from './definitions.js';

export interface DefinitionChange {
  readonly kind: DefinitionKind;
  /** Stream name, or the consumer's durable name. */
  readonly name: string;
  /** For consumers: the stream they belong to. */
  readonly stream?: string;
  readonly action: 'created' | 'updated' | 'unchanged';
  /** For 'updated': one `field: server -> definition` line per changed field. */
  readonly diff?: string[];
}

export interface ApplyDefinitionsOptions {
  /** Compute and return the changes without making them. */
  readonly dryRun?: boolean;
}

/** Applying stopped: `problems` says why, `changes` lists what was already done before it stopped. */
export class ApplyDefinitionsError extends Error {
  constructor(
    readonly problems: readonly string[],
    readonly changes: readonly DefinitionChange[],
  ) {
    super(`cannot apply the NATS definitions:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ApplyDefinitionsError';
  }
}

interface Planned {
  readonly change: DefinitionChange;
  readonly diffs: readonly FieldDiff[];
  readonly definition: StreamDefinition | ConsumerDefinition;
}

/**
 * Makes the server match the definitions, idempotently: creates what is missing, updates what
 * differs in the fields a definition sets, leaves the rest alone. Everything is checked before
 * anything is changed, so a field the server cannot update (storage, retention, ack_policy...)
 * fails the whole run, naming the field, with nothing half-applied.
 */
export async function applyDefinitions(
  jsm: JetStreamManager,
  definitions: NatsDefinitions,
  options: ApplyDefinitionsOptions = {},
): Promise<DefinitionChange[]> {
  const plan = await planDefinitions(jsm, definitions);
  const problems = plan.flatMap(({ change, diffs }) =>
    updateConflicts(change.kind, diffs).map((problem) => `${label(change)}: ${problem}`),
  );
  if (problems.length > 0) throw new ApplyDefinitionsError(problems, []);
  if (options.dryRun) return plan.map(({ change }) => change);

  const done: DefinitionChange[] = [];
  for (const { change, diffs, definition } of plan) {
    try {
      await execute(jsm, change, diffs, definition);
    } catch (err) {
      const verb = change.action === 'created' ? 'create' : 'update';
      throw new ApplyDefinitionsError([`${label(change)}: ${verb} refused: ${(err as Error).message}`], done);
    }
    done.push(change);
  }
  return done;
}

async function planDefinitions(
  jsm: JetStreamManager,
  { streams, consumers }: NatsDefinitions,
): Promise<Planned[]> {
  const plan: Planned[] = [];
  const newStreams = new Set<string>();
  for (const definition of streams) {
    const { name } = definition.config;
    const server = await lookUp(`stream ${name}`, JetStreamApiCodes.StreamNotFound, async () => {
      return (await jsm.streams.info(name)).config;
    });
    if (!server) newStreams.add(name);
    plan.push(planned({ kind: 'stream', name }, definition, server));
  }
  for (const definition of consumers) {
    const { stream, config } = definition;
    const name = config.durable_name;
    const server = newStreams.has(stream)
      ? undefined
      : await lookUp(`consumer ${stream}/${name}`, JetStreamApiCodes.ConsumerNotFound, async () => {
          return (await jsm.consumers.info(stream, name)).config;
        });
    plan.push(planned({ kind: 'consumer', name, stream }, definition, server));
  }
  return plan;
}

function planned(
  id: Pick<DefinitionChange, 'kind' | 'name' | 'stream'>,
  definition: StreamDefinition | ConsumerDefinition,
  server: object | undefined,
): Planned {
  if (!server) return { change: { ...id, action: 'created' }, diffs: [], definition };
  const diffs = diffConfig(definition.config, server);
  const change: DefinitionChange =
    diffs.length === 0
      ? { ...id, action: 'unchanged' }
      : { ...id, action: 'updated', diff: diffs.map(formatFieldDiff) };
  return { change, diffs, definition };
}

/** The server's config, or undefined when it answers "not found" with `notFound`. */
async function lookUp<T>(what: string, notFound: number, info: () => Promise<T>): Promise<T | undefined> {
  try {
    return await info();
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === notFound) return undefined;
    throw new Error(`${what}: cannot read its current configuration: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function execute(
  jsm: JetStreamManager,
  change: DefinitionChange,
  diffs: readonly FieldDiff[],
  definition: StreamDefinition | ConsumerDefinition,
): Promise<void> {
  if (change.action === 'unchanged') return;
  const changed = Object.fromEntries(diffs.map((diff) => [diff.field, diff.wanted]));
  if (definition.kind === 'stream') {
    if (change.action === 'created') await jsm.streams.add(definition.config);
    else await jsm.streams.update(definition.config.name, changed as Partial<StreamUpdateConfig>);
  } else if (change.action === 'created') {
    await jsm.consumers.add(definition.stream, definition.config);
  } else {
    await jsm.consumers.update(
      definition.stream,
      definition.config.durable_name,
      changed as Partial<ConsumerUpdateConfig>,
    );
  }
}

function label(change: DefinitionChange): string {
  return change.kind === 'stream' ? `stream ${change.name}` : `consumer ${change.stream}/${change.name}`;
}
