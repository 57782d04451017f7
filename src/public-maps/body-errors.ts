/**
 * Turns TypeBox's errors about a saved map's body into the API's 400 errors, naming the bad
 * field the way error messages name parameters (`datasets[0].type`).
 */
import type { TSchema } from '@sinclair/typebox';
import type { ValueError } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { type ApiError, errors } from '../http/errors.js';

/** A compiled TypeBox check. */
export interface CompiledCheck<T> {
  Check(value: unknown): value is T;
  Errors(value: unknown): Iterable<ValueError>;
}

/** `/datasets/0/type` as `datasets[0].type`, the way error messages name parameters. */
function parameterName(path: string): string {
  const name = path
    .split('/')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('');
  return name.startsWith('.') ? name.slice(1) : name || 'body';
}

/**
 * The error to report for a union: a nullable field's own error inside it, else a list of
 * what the union takes.
 */
function unionError(error: ValueError): ValueError | string {
  const variants = ((error.schema as { anyOf?: TSchema[] }).anyOf ?? []).filter(
    (variant) => variant.type !== 'null',
  );
  if (variants.length === 1 && error.value !== null) {
    const inner = Value.Errors(variants[0]!, error.value).First();
    if (inner) return { ...inner, path: `${error.path}${inner.path}` };
  }
  if (variants.every((variant) => typeof variant.const === 'string')) {
    return `expected one of ${variants.map((variant) => String(variant.const)).join(', ')}`;
  }
  return `expected ${variants.map((variant) => String(variant.type)).join(' or ')}`;
}

/** The 400 `ApiError` for one TypeBox error. */
export function toApiError(error: ValueError): ApiError {
  const name = parameterName(error.path);
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return errors.missingParameter(name);
    case ValueErrorType.ObjectAdditionalProperties:
      return errors.invalidParameter(name, 'not a field of a saved map');
    case ValueErrorType.ObjectMinProperties:
      return errors.malformedBody('nothing to change');
    case ValueErrorType.Union: {
      const inner = unionError(error);
      return typeof inner === 'string' ? errors.invalidParameter(name, inner) : toApiError(inner);
    }
    default: {
      const reason = error.message.charAt(0).toLowerCase() + error.message.slice(1);
      return errors.invalidParameter(name, reason);
    }
  }
}

/**
 * Checks `value`, found at `path` of the body (`/keplerMapConfig/...`, or `''` for the body
 * itself); throws the 400 `ApiError` of its first error.
 */
export function assertValid<T>(
  compiled: CompiledCheck<T>,
  value: unknown,
  path = '',
): asserts value is T {
  if (compiled.Check(value)) return;
  const [first] = compiled.Errors(value);
  if (first) throw toApiError({ ...first, path: `${path}${first.path}` });
  throw errors.malformedBody('not a saved map');
}
