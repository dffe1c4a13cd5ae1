/**
 * The columns a caller may read, from the `acl_read_columns` header (CRUD Service's name; the
 * gateway sets it). A hidden column must leak through no path, so besides trimming the output it
 * can be neither filtered, sorted, nor carried in a cursor: a request that names one in `_q`, a
 * field filter, `_s` or `_st` is refused with TRB_COLUMN_HIDDEN (400), never answered.
 *
 *   acl_read_columns: customer_id,name,customer
 *     permits('name') ✓   permits('customer.tier') ✓ (inside a listed field)   permits('_id') ✓ (always)
 *     permits('email') ✗  permits('orders') ✗
 *
 * `_p` keeps CRUD Service's behaviour: intersected with the list (a projection of a hidden column
 * reveals nothing, and CRUD clients send `_p` lists wider than a caller's columns).
 */
import { TributaryError } from '../../errors.js';
import { fieldOf, type Endpoint } from '../model.js';
import { queryError } from './cast.js';

export interface ReadableColumns {
  /** The configured header name, for messages. */
  readonly header: string;
  /** The listed fields this endpoint has; never empty (`_id` when nothing else is left). */
  readonly listed: readonly string[];
  /** Whether `path` is `_id`, a listed field, or lies inside one. */
  permits(path: string): boolean;
}

/**
 * Parses the header: comma-separated names (what CRUD Service's code reads) or a JSON array (what
 * its docs say). Names the endpoint does not have are dropped: one gateway list may serve many
 * collections. Undefined header → undefined (no restriction).
 */
export function readableColumns(endpoint: Endpoint, header: string | undefined, name: string): ReadableColumns | undefined {
  if (header === undefined) return undefined;
  let listed: string[];
  if (header.trim().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(header);
    } catch {
      throw queryError(`${name} must be comma-separated field names or a JSON array of them`, name);
    }
    if (!Array.isArray(parsed) || !parsed.every((f) => typeof f === 'string')) throw queryError(`${name} must be a JSON array of field names`, name);
    listed = parsed as string[];
  } else {
    listed = header.split(',');
  }
  const known = [...new Set(listed.map((f) => f.trim()).filter((f) => f !== '' && fieldOf(endpoint, f) !== null))];
  const permits = (path: string) => path === '_id' || known.some((a) => path === a || path.startsWith(`${a}.`));
  return { header: name, listed: known.length > 0 ? known : ['_id'], permits };
}

/** The refusal for a hidden column named at `at` (`_q.email`, `_s`, a field filter's key, `_st`). */
export function hiddenColumn(path: string, at: string, columns: ReadableColumns): TributaryError {
  return new TributaryError('TRB_COLUMN_HIDDEN', `'${path}' is not readable under ${columns.header}, so it cannot be filtered, sorted or paged on (at ${at})`, {
    context: { path: at, column: path },
  });
}
