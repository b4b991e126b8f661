import { signedToUnits } from '@tally/contracts';
import { formatMoney } from '../check/agreement.js';

/** What the live view shows at one instant (gathered once a second by the demo). */
export interface LiveSnapshot {
  readonly elapsedMs: number;
  /** Acknowledged by ingest in the last second. */
  readonly acceptedPerSecond: number;
  readonly acknowledged: number;
  /** Sales the run will send; undefined: until Ctrl-C. */
  readonly target: number | undefined;
  readonly rejected: number;
  readonly failed: number;
  /** Messages each sink has yet to store, in the order shown; error when it could not be read. */
  readonly lags: readonly { readonly sink: string; readonly messages?: number; readonly error?: string }[];
  readonly topCategories:
    | {
        readonly window: string;
        readonly categories: readonly { category: string; count: number; revenue: string }[];
      }
    | { readonly error: string };
  readonly urls: readonly { readonly label: string; readonly url: string }[];
}

const n = (value: number) => value.toLocaleString('en-US');

function lagText(s: LiveSnapshot): string {
  return s.lags
    .map((l) => `${l.sink} ${l.messages === undefined ? `? (${l.error ?? 'unknown'})` : n(l.messages)}`)
    .join(' · ');
}

function topText(s: LiveSnapshot): string {
  if ('error' in s.topCategories) return `? (${s.topCategories.error})`;
  const { categories, window } = s.topCategories;
  if (categories.length === 0) return `none yet (window ${window})`;
  return `${categories.map((c) => `${c.category} ${n(c.count)} lines ${formatMoney(signedToUnits(c.revenue))}`).join(' · ')}   (window ${window})`;
}

function sellingText(s: LiveSnapshot): string {
  const of = s.target === undefined ? '' : ` of ${n(s.target)}`;
  const problems = s.rejected + s.failed > 0 ? ` · ${n(s.rejected)} rejected · ${n(s.failed)} failed` : '';
  return `${n(s.acceptedPerSecond)} sales/s accepted · ${n(s.acknowledged)}${of} acknowledged${problems}   (${(s.elapsedMs / 1000).toFixed(0)} s)`;
}

/** The block a terminal redraws in place every second. */
export function liveLines(s: LiveSnapshot): string[] {
  const width = Math.max(...s.urls.map((u) => u.label.length));
  return [
    `selling    ${sellingText(s)}`,
    `lag        ${lagText(s)}   (messages not yet stored)`,
    `top 3      ${topText(s)}`,
    ...s.urls.map((u, i) => `${i === 0 ? 'urls' : '    '}       ${u.label.padEnd(width)}  ${u.url}`),
  ];
}

/** One line per second when the output is not a terminal (CI logs): no URLs, they were printed once. */
export function plainLiveLine(s: LiveSnapshot): string {
  return `[${(s.elapsedMs / 1000).toFixed(1).padStart(5)} s] ${sellingText(s).replace(/\s+\(\d+ s\)$/, '')}; lag ${lagText(s)}; top ${topText(s)}`;
}
