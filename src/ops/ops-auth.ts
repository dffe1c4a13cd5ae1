/**
 * Who may call what on the ops server. Three levels:
 *
 *   open     /-/healthz, /-/ready          always: Kubernetes probes carry no credentials
 *   read     /metrics, /topology, /status, /dashboard…   the read token or the control token, when a read token is set
 *   control  routes with `auth: true` (pause, resume)    the control token; disabled without one
 *
 * A token travels as `Authorization: Bearer <token>`, or as the password of HTTP Basic auth (any
 * user name) so a browser can open /dashboard: it prompts once and sends the credentials with the
 * page's event stream. Tokens are compared as SHA-256 digests in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { TributaryError } from '../errors.js';

/** Shortest token accepted: 16 characters (a random 16-character token is far beyond guessing over HTTP). */
export const MIN_TOKEN_LENGTH = 16;

export type TokenDigest = Buffer;

/**
 * Checks a configured token (`setting` names it in the error) and returns its digest; undefined or
 * empty means "no token". Too short, or with whitespace (a header could never carry it), is TRB_CONFIG.
 */
export function tokenDigest(setting: string, token: string | undefined): TokenDigest | undefined {
  if (token === undefined || token === '') return undefined;
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new TributaryError('TRB_CONFIG', `invalid ${setting}: expected at least ${MIN_TOKEN_LENGTH} characters without spaces (got ${token.length} characters)`, {
      context: { setting, minLength: MIN_TOKEN_LENGTH },
    });
  }
  return digest(token);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The token a request presents: the Bearer token, or the password of Basic credentials. */
export function presentedToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** Whether `header` presents one of `accepted` (digests of tokens). Hashing first makes the comparison length-blind. */
export function authorized(header: string | undefined, accepted: ReadonlyArray<TokenDigest | undefined>): boolean {
  const token = presentedToken(header);
  const presented = digest(token ?? '');
  let ok = false;
  for (const expected of accepted) if (expected !== undefined && timingSafeEqual(presented, expected)) ok = true;
  return ok && token !== undefined;
}

/** The WWW-Authenticate challenge of a refused read: Basic makes a browser ask for the token. */
export const READ_CHALLENGE = 'Bearer realm="tributary", Basic realm="tributary ops (any user name, the token as password)"';

/** Whether binding `host` keeps the server on this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}
