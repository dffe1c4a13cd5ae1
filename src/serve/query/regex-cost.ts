/**
 * The read API's stance on `$regex` cost. MongoDB (PCRE) and the memory store (JavaScript) both
 * match by backtracking, where some patterns take time exponential in the subject's length. The
 * read API refuses, before any query runs:
 *
 *   - a repeated group that itself contains a repetition ("nested quantifiers"):
 *       (a+)+   (a*)*b   (\w+\s?)*$   ([a-z]+){2,}   — the classic catastrophic shape;
 *   - back-references (\1, \k<name>): matching with them is not even polynomial in general.
 *
 * plus the length limit of QueryLimits.maxRegexLength. Not every super-linear pattern is caught
 * (an alternation whose branches overlap, `(a|a)*`, is not; nor polynomial ones like `a*a*a*b`),
 * so `maxTimeMS` on every store query is the backstop on MongoDB-wire stores. On the memory store a
 * regex runs in process and `maxTimeMS` is checked between documents, not inside one match.
 *
 *   repetitionProblem('^(a+)+$')   → 'nested quantifiers'
 *   repetitionProblem('^(ab)+c*$') → undefined
 */

/** Why `pattern` is refused, or undefined. Assumes `pattern` already compiles. */
export function repetitionProblem(pattern: string): string | undefined {
  // One entry per open group: does it contain a repetition?
  const groups: boolean[] = [false];
  let lastGroupRepeats = false; // the group just closed contained a repetition
  let afterGroup = false; // the previous atom was a group
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k' || next === 'g') return 'back-references';
      i += 1;
      afterGroup = false;
      continue;
    }
    if (c === '[') {
      i = classEnd(pattern, i);
      afterGroup = false;
      continue;
    }
    if (c === '(') {
      groups.push(false);
      afterGroup = false;
      continue;
    }
    if (c === ')') {
      lastGroupRepeats = groups.pop() ?? false;
      afterGroup = true;
      if (lastGroupRepeats) groups[groups.length - 1] = true;
      continue;
    }
    const repeats = c === '*' || c === '+' || (c === '{' && repeatsMoreThanOnce(pattern, i));
    if (repeats) {
      if (afterGroup && lastGroupRepeats) return 'nested quantifiers';
      groups[groups.length - 1] = true;
    }
    afterGroup = false;
  }
  return undefined;
}

/** Index of the `]` closing the class opened at `start` (escapes and a leading `]` or `^]` included). */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i += 1;
  if (pattern[i] === ']') i += 1;
  for (; i < pattern.length; i += 1) {
    if (pattern[i] === '\\') i += 1;
    else if (pattern[i] === ']') return i;
  }
  return pattern.length;
}

/** `{n}` with n ≤ 1 repeats nothing; `{n}` (n > 1), `{n,}` and `{n,m}` (m > 1) repeat. A `{` that is no quantifier is a literal. */
function repeatsMoreThanOnce(pattern: string, at: number): boolean {
  const match = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(at));
  if (!match) return false;
  const min = Number(match[1]);
  if (match[2] === undefined) return min > 1;
  return match[3] === '' || Number(match[3]) > 1;
}
