/**
 * The one global ValidationPipe, with a shortcut for the commonest query of all: none. A request without a
 * query string still sends its query DTO (e.g. `UserIncludeQueryDto` on GET /users/:id) through
 * class-transformer and class-validator, which re-filters all of its metadata on every call: about 7 % of the
 * CPU of GET by id. An empty object is the same input every time, so the outcome for a class is too: it is
 * validated the ordinary way the first time, and when that passes, later empty queries get the instance
 * class-transformer would build (`new Dto()`: no keys to copy, field defaults applied) without the round trip.
 * An empty query that fails (a DTO with a required parameter) is never cached and fails every time as before.
 *
 * It also keeps the messages for a value of the wrong type to the one that says so: `limit=abc` failed
 * `@IsInt`, `@Min(1)` and `@Max(100)` at once and answered "must not be greater than 100", "must not be less
 * than 1" and "must be an integer number" together; now it is the last one only. Rules about a value's size or
 * format are reported when its type is right.
 */
import { type ArgumentMetadata, type Type, ValidationPipe } from '@nestjs/common';
import type { ValidationError, ValidatorOptions } from 'class-validator';

/** class-validator constraint names that check what kind of value a property holds. */
const TYPE_CONSTRAINTS = new Set(['isDefined', 'isInt', 'isNumber', 'isString', 'isBoolean', 'isArray', 'isArrayOfObjects', 'isObject', 'nestedValidation']);

export class ApiValidationPipe extends ValidationPipe {
  /** Query DTO classes for which an empty query has passed validation. */
  private readonly emptyQueryPasses = new WeakSet<Type<unknown>>();

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { metatype } = metadata;
    if (metadata.type !== 'query' || !metatype || !this.isTransformEnabled || !isEmptyObject(value) || !this.toValidate(metadata)) {
      return super.transform(value, metadata);
    }
    if (this.emptyQueryPasses.has(metatype)) return new metatype();
    // Throws when the empty query is invalid for this class: nothing is cached then.
    const entity: unknown = await super.transform(value, metadata);
    this.emptyQueryPasses.add(metatype);
    return entity;
  }

  protected override async validate(object: object, validatorOptions?: ValidatorOptions): Promise<ValidationError[]> {
    const errors = await super.validate(object, validatorOptions);
    errors.forEach(keepTypeErrorsOnly);
    return errors;
  }
}

/** When a property fails a type check, drops its other failures (they only restate that the type is wrong). */
function keepTypeErrorsOnly(error: ValidationError): void {
  const { constraints } = error;
  if (constraints) {
    let typeFailures = Object.keys(constraints).filter((name) => TYPE_CONSTRAINTS.has(name));
    // An array of non-objects also fails the nested validation, in class-validator's words: the item's own message says it.
    if (typeFailures.includes('isArrayOfObjects')) {
      typeFailures = typeFailures.filter((name) => name !== 'nestedValidation');
      error.children = error.children?.filter((child) => Object.keys(child.constraints ?? {}).some((name) => name !== 'nestedValidation'));
    }
    if (typeFailures.length > 0) error.constraints = Object.fromEntries(typeFailures.map((name) => [name, constraints[name]]));
  }
  error.children?.forEach(keepTypeErrorsOnly);
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}
