/**
 * Keeping credentials out of everything an operator can read: log lines, `describe`, `/status`.
 * Two tools, because secrets leak two ways: inside URLs (a MongoDB or registry URL with a
 * password) and as values that a library puts in an error message or a log field we do not control.
 *
 *   redactUrl('mongodb://app:s3cret@db:27017/x')  --> 'mongodb://app:***@db:27017/x'
 *   scrubSecrets('auth failed for s3cret', ['s3cret']) --> 'auth failed for ***'
 */

export const REDACTED = '***';

/** The URL with its password (and nothing else) replaced; text that is not a URL is returned as is. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password === '') return text;
    url.password = REDACTED;
    return url.toString();
  } catch {
    // Not a URL (or one Node cannot parse, e.g. a multi-host mongodb:// list): cut any userinfo password.
    return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]+):[^@/]*@/i, `$1:${REDACTED}@`);
  }
}

/** The forms a secret takes on the way into a log line: as is, JSON-escaped and URL-encoded. */
function formsOf(secret: string): string[] {
  return [...new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])];
}

/** Returns a function that replaces every occurrence of any of `secrets` in a text. Short values are ignored: scrubbing "a" would wreck every line. */
export function secretScrubber(secrets: readonly string[]): (text: string) => string {
  const forms = secrets.filter((s) => s.length >= 4).flatMap(formsOf).sort((a, b) => b.length - a.length);
  if (forms.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
    return out;
  };
}
