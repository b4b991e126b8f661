import type { IngestRules } from '../catalog/ingest-rules.config.js';
import type { TrafficStats } from '../simulator/traffic.generator.js';

/**
 * What the demo makes of ingest's answers, next to the stores' agreement: the rejections counted
 * by the rule ingest named, and whether ingest did what the rules say. With the rules on, every
 * deliberately bad receipt must be refused naming the rule it breaks; with them off (--no-rules)
 * they are accepted and simply part of the reference. The simulator's own sales must never be
 * refused, and every sale must get an answer.
 */
/** After selling: the rejections by rule, and what became of the deliberately bad receipts. */
export function rejectionLines(sold: TrafficStats, rules: IngestRules): string[] {
  const lines: string[] = [];
  if (sold.rejectedByRule.size > 0) {
    lines.push(
      `rejected by rule: ${[...sold.rejectedByRule]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .map(([rule, n]) => `${rule} ${n}`)
        .join(', ')}`,
    );
  }
  const d = sold.deliberate;
  if (d.sent > 0) {
    lines.push(
      rules.enforced
        ? `rule-breaking receipts: ${d.sent} sent, ${d.refused} refused by the rule they break, ${d.accepted} accepted, ${d.misjudged} refused for another reason`
        : `rule-breaking receipts: ${d.sent} sent, ${d.accepted} accepted (the rules are off: --no-rules)`,
    );
  }
  return lines;
}

/** What ingest did wrong, if anything: each makes the run fail (exit 1). */
export function ingestNotes(sold: TrafficStats, rules: IngestRules): string[] {
  const notes: string[] = [];
  if (sold.unexpectedRejections > 0) {
    notes.push(
      `${sold.unexpectedRejections} of the simulator's valid sales were rejected by ingest (see above)`,
    );
  }
  if (sold.failed > 0) notes.push(`${sold.failed} sales were not acknowledged by ingest (see above)`);
  if (rules.enforced && sold.deliberate.accepted > 0) {
    notes.push(`${sold.deliberate.accepted} rule-breaking receipts were accepted although the rules are on`);
  }
  if (sold.deliberate.misjudged > 0) {
    notes.push(
      `${sold.deliberate.misjudged} rule-breaking receipts were refused without naming the rule they break`,
    );
  }
  return notes;
}
