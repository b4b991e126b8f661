import { loadAggregatorConfig } from '../../apps/aggregator/src/config/aggregator.config.js';
import type { WindowLayout } from '../../apps/aggregator/src/windows/window-spec.js';

/**
 * The window layout the aggregator runs with by default (60 buckets per window, 5 minutes of
 * allowed lateness), read through its own config loader so the benchmark follows any change.
 */
export function defaultLayout(): WindowLayout {
  return loadAggregatorConfig({ TALLY_AUTH: 'disabled' }).layout;
}
