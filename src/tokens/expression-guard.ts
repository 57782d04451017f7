/**
 * Keeps the SQL expressions a client may send with a source (`aggregationExp`, a widget's
 * `operationExp` or `aggregations`) from reading outside the source an API access token was
 * granted. The widget and maps code already keeps an expression in its place (balanced
 * parentheses, no comments, no statement separators, no `$` or `\`); for API access tokens
 * this adds: no subquery (`SELECT`, `VALUES`, `TABLE`), and calls only to functions that
 * compute on values (aggregates, math, text, time, JSON, PostGIS, H3, quadbin), never to ones
 * that could read other relations (`query_to_xml`, `dblink`, user functions).
 */
import { errors } from '../http/errors.js';
import { quotedEnd } from '../warehouses/postgres-sql-text.js';

const SUBQUERY_KEYWORDS = new Set(['select', 'values', 'table']);

/** Keywords that may stand before a parenthesis without being a function call. */
const KEYWORDS_BEFORE_PARENTHESIS = new Set([
  'all',
  'and',
  'any',
  'array',
  'as',
  'asc',
  'between',
  'by',
  'case',
  'desc',
  'distinct',
  'else',
  'filter',
  'group',
  'ilike',
  'in',
  'is',
  'like',
  'not',
  'nulls',
  'or',
  'order',
  'over',
  'partition',
  'row',
  'similar',
  'some',
  'then',
  'when',
  'within',
]);

const FUNCTIONS = new Set(
  `count sum avg min max any_value bool_and bool_or every bit_and bit_or array_agg string_agg
  stddev stddev_pop stddev_samp variance var_pop var_samp corr covar_pop covar_samp
  percentile_cont percentile_disc mode abs round floor ceil ceiling trunc sqrt cbrt power exp ln
  log log10 sign mod div pi degrees radians sin cos tan asin acos atan atan2 width_bucket
  coalesce nullif greatest least cast extract date_part date_trunc to_char to_number
  to_timestamp to_date make_date age lower upper initcap length char_length character_length
  octet_length concat concat_ws substring substr left right trim btrim ltrim rtrim lpad rpad
  replace split_part strpos position reverse repeat md5 regexp_replace regexp_match
  array_length cardinality json_build_object jsonb_build_object json_agg jsonb_agg to_json
  to_jsonb numeric decimal varchar char character timestamp timestamptz time interval float bit`
    .split(/\s+/u)
    .filter(Boolean),
);
/** Function families that only compute on their arguments. */
const FUNCTION_PREFIXES = ['st_', 'h3_', 'quadbin_'];
/**
 * Exceptions to the families: PostGIS functions that read another table by name (its
 * statistics, or all of its rows).
 */
const BLOCKED_FUNCTIONS = new Set(['st_estimatedextent', 'st_find_extent', 'st_findextent']);

function isAllowedFunction(name: string): boolean {
  if (BLOCKED_FUNCTIONS.has(name)) return false;
  return FUNCTIONS.has(name) || FUNCTION_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** Index of the first character at or after `i` that is not white space. */
function skipSpace(text: string, i: number): number {
  while (i < text.length && /\s/u.test(text[i]!)) i += 1;
  return i;
}

/**
 * Refuses (403) an expression an API access token may not send; `parameter` names it. Text
 * the route's own check refuses (unbalanced quotes and the like) is left to that check.
 */
export function assertTokenSafeExpression(text: string, parameter: string): void {
  const refuse = (reason: string) =>
    errors.forbidden(`API access tokens may not use ${reason} in '${parameter}'`);
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === "'") {
      const end = quotedEnd(text, i, ch);
      if (end < 0) return;
      i = end;
      continue;
    }
    const isQuotedName = ch === '"';
    const word = isQuotedName ? null : /^[A-Za-z_][A-Za-z0-9_$]*/u.exec(text.slice(i))?.[0];
    if (!isQuotedName && !word) {
      i += 1;
      continue;
    }
    const start = i;
    const end = isQuotedName ? quotedEnd(text, i, '"') : i + word!.length;
    if (end < 0) return;
    const name = isQuotedName ? '' : word!.toLowerCase();
    if (SUBQUERY_KEYWORDS.has(name)) throw refuse('a subquery');
    const next = skipSpace(text, end);
    if (text[next] === '(') {
      const before = text.slice(0, start).trimEnd();
      const isTypeName = before.endsWith('::');
      const isQualified = before.endsWith('.');
      if (isQuotedName || isQualified) throw refuse('a quoted or qualified function name');
      if (!isTypeName && !KEYWORDS_BEFORE_PARENTHESIS.has(name) && !isAllowedFunction(name)) {
        throw refuse(`the function '${word}'`);
      }
    }
    i = end;
  }
}
