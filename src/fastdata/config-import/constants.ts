/**
 * Fast Data constants and custom-function references inside config strings:
 *
 *   "__string__[doctor]"   --> 'doctor'          "__integer__[42]"     --> 42
 *   "__boolean__[true]"    --> true              "__constant__[x]"     --> 'x'   (deprecated, a string)
 *   "__fromFile__[myFunc]" --> fromFileName(...) = 'myFunc' (also "__fromFile[myFunc]", the SVTG spelling)
 */
import { configError, type Where } from './where.js';

const CONSTANT = /^__(string|integer|boolean|constant)__\[(.*)\]$/s;
const FROM_FILE = /^__fromFile(?:__)?\[(.+)\]$/;

export const CONSTANT_FORMS = '__string__[text], __integer__[123], __boolean__[true|false], __constant__[text]';

export function isConstant(text: string): boolean {
  return CONSTANT.test(text);
}

/** The value of a constant string, or undefined when `text` is not a constant. Malformed constants throw TRB_CONFIG. */
export function constantValue(text: string, where: Where): { value: unknown } | undefined {
  const m = CONSTANT.exec(text);
  if (!m) return undefined;
  const [, kind, raw = ''] = m;
  if (kind === 'integer') {
    if (!/^[+-]?\d+$/.test(raw)) throw configError(where, `'${text}' is not an integer constant`, CONSTANT_FORMS);
    return { value: Number.parseInt(raw, 10) };
  }
  if (kind === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw configError(where, `'${text}' is not a boolean constant`, CONSTANT_FORMS);
    return { value: raw === 'true' };
  }
  return { value: raw };
}

/** 'myFunc' for "__fromFile__[myFunc]" (a trailing '.js' is dropped), else undefined. */
export function fromFileName(text: string): string | undefined {
  const m = FROM_FILE.exec(text);
  return m?.[1]?.replace(/\.[cm]?js$/, '');
}
