/**
 * `${NAME}` and `${NAME:-default}` placeholders in definition files, expanded before JSON parsing.
 * Like the shell: the default applies when NAME is unset or empty. Values come from `overrides`
 * first, then from `env`. A placeholder without default whose variable is unset is an error:
 * a silently empty stream name or subject is worse than a refusal.
 */
export type Variables = Readonly<Record<string, string | undefined>>;

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function expandPlaceholders(text: string, env: Variables, overrides: Variables = {}): string {
  return text.replace(PLACEHOLDER, (_match, name: string, fallback: string | undefined) => {
    const value = nonEmpty(overrides[name]) ?? nonEmpty(env[name]) ?? fallback;
    if (value === undefined) {
      throw new Error(`\${${name}} is not set and has no default (write \${${name}:-value} for one)`);
    }
    // The text is JSON: escape so a value can never break out of the string it sits in.
    return JSON.stringify(value).slice(1, -1);
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
