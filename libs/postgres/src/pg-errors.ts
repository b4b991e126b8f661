/**
 * Which Postgres failures are the data's fault and which are the moment's.
 *
 * Permanent: SQLSTATE class 22 (data exception: bad number, value too long, bad timestamp) and
 * class 23 (integrity constraint violation). Retrying the same rows can never succeed, so the
 * writer isolates the offending message and dead-letters it.
 *
 * Everything else is treated as transient: lost connections (no SQLSTATE at all), class 08
 * (connection), 40 (serialization, deadlock), 53 (insufficient resources), 57 (operator
 * intervention, statement timeout), and also 42 (missing table or column): that is a deployment
 * problem, and dead-lettering every sale while someone fixes the schema would be worse than
 * waiting for them.
 */
export function isPermanentPgError(error: unknown): boolean {
  const code = sqlState(error);
  return code !== undefined && (code.startsWith('22') || code.startsWith('23'));
}

export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** A one-line reason for logs and dead letters: SQLSTATE, message, and the constraint if any. */
export function describePgError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const e = error as Error & { code?: string; constraint?: string; detail?: string };
  const parts = [e.code ? `SQLSTATE ${e.code}` : undefined, e.message];
  if (e.constraint) parts.push(`constraint ${e.constraint}`);
  if (e.detail) parts.push(e.detail);
  return parts.filter(Boolean).join(': ');
}
