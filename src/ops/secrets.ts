/**
 * The one redaction every output goes through: log lines, error messages the CLI prints, and every
 * body the ops server sends (`/status`, `/topology`, `/dashboard`, `/metrics`, health reasons).
 * Secrets leak three ways, and one Redactor covers all three:
 *
 *   1. inside connection strings: the password of a URL's user info, and query options that carry
 *      credentials (`tlsCertificateKeyFilePassword=`, `authMechanismProperties=AWS_SESSION_TOKEN:…`);
 *   2. in fields and headers whose name says what they hold (`"password":"…"`, `Bearer …`);
 *   3. as bare values a library copies into a message or stack we do not control: every secret the
 *      configuration read is registered with `add()` and replaced raw, JSON-escaped or URL-encoded.
 *
 *   const redactor = new Redactor(['s3cret']);
 *   redactor.redact('mongodb://app:s3cret@h1:27017,h2:27017/x?tlsCertificateKeyFilePassword=kpw')
 *     --> 'mongodb://app:***@h1:27017,h2:27017/x?tlsCertificateKeyFilePassword=***'
 *   redactor.redact('SASL refused s3cret')  --> 'SASL refused ***'
 */

export const REDACTED = '***';

/** Values shorter than this are not scrubbed as bare values: replacing "ab" would wreck every line. */
export const MIN_SCRUBBED_LENGTH = 4;

/** Names of options, fields and variables whose value is a credential. */
const SENSITIVE_NAME = String.raw`[A-Za-z0-9_.-]*(?:password|passwd|passphrase|secret|token|credential|api[_-]?key|authmechanismproperties|jaas)[A-Za-z0-9_.-]*`;

/** `scheme://user:password@host…`: the password may hold '@' when unescaped; the last '@' of the authority ends it. */
const USERINFO_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:"'\\<>]*):([^\s/?#"'\\<>]*)@(?=[^\s/?#@"'\\<>]*(?:[/?#\s"'\\<>]|$))/gi;

/** `?name=value`, `&name=value`, ` name=value`, ` name="value"` for a sensitive name (connection-string options, Java-style properties). */
const SENSITIVE_OPTION = new RegExp(String.raw`(^|[?&;\s,({\[])(${SENSITIVE_NAME})=("?)([^&;\s"'#\\]+)`, 'gi');

/** `"password":"…"` in JSON text (a structured log line, a response body). */
const SENSITIVE_JSON_FIELD = new RegExp(String.raw`("${SENSITIVE_NAME}"\s*:\s*)"(?:[^"\\]|\\.)*"`, 'gi');

/** An HTTP credential copied into a message. */
const AUTHORIZATION = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}/g;

/** Whether an option or field called `name` holds a credential (case-insensitive). */
export function isSensitiveName(name: string): boolean {
  return new RegExp(`^${SENSITIVE_NAME}$`, 'i').test(name);
}

/** The forms a secret takes on the way into a line: as is, JSON-escaped and URL-encoded. */
function formsOf(secret: string): string[] {
  return [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)];
}

export class Redactor {
  readonly #secrets = new Set<string>();
  /** Every form of every secret, longest first, so a secret containing another is replaced whole. */
  #forms: string[] = [];

  constructor(secrets: Iterable<string> = []) {
    this.add(...secrets);
  }

  /** Registers values to replace wherever they appear from now on (empty and undefined ignored). */
  add(...secrets: ReadonlyArray<string | undefined>): this {
    let changed = false;
    for (const secret of secrets) {
      if (secret === undefined || secret.length < MIN_SCRUBBED_LENGTH || this.#secrets.has(secret)) continue;
      this.#secrets.add(secret);
      changed = true;
    }
    if (changed) this.#forms = [...new Set([...this.#secrets].flatMap(formsOf))].sort((a, b) => b.length - a.length);
    return this;
  }

  /** The registered secrets (for a child redactor, or to hand to a logger). */
  get secrets(): readonly string[] {
    return [...this.#secrets];
  }

  /** The one redaction: connection-string credentials, sensitive fields and options, and every registered value. */
  redact(text: string): string {
    let out = text
      .replace(USERINFO_PASSWORD, `$1:${REDACTED}@`)
      .replace(SENSITIVE_OPTION, `$1$2=$3${REDACTED}`)
      .replace(SENSITIVE_JSON_FIELD, `$1"${REDACTED}"`)
      .replace(AUTHORIZATION, `$1 ${REDACTED}`);
    for (const form of this.#forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
    return out;
  }

  /** `value` with every string in it redacted (a JSON round trip: for response bodies and error contexts). */
  redactJson(value: unknown): unknown {
    const text = JSON.stringify(value);
    return text === undefined ? value : (JSON.parse(this.redact(text)) as unknown);
  }
}

/** Redaction without registered secrets: connection strings, sensitive fields and options only. */
const patternsOnly = new Redactor();

/** `text` through the patterns of {@link Redactor.redact} (no registered values). */
export function redactText(text: string): string {
  return patternsOnly.redact(text);
}
