/**
 * Turns the errors of a `bulkCreate(rows, { validate: true })` into a 400 that names each bad row's position.
 */
import { BadRequestException } from '@nestjs/common';
import { AggregateError, BulkRecordError, ValidationError } from 'sequelize';
import { validationMessage } from './validation-messages';

/**
 * bulkCreate's `validate: true` reports every invalid row in one AggregateError of BulkRecordErrors, which name
 * the instance but not its position: `indexOf` finds it in the request. Anything else is rethrown untouched.
 * (The DTOs enforce the same rules first, so this is the model's last word, not the usual path.)
 */
export function badBulkRows(error: unknown, field: string, indexOf: (record: Record<string, unknown>) => number): unknown {
  if (!(error instanceof AggregateError)) return error;
  const messages = error.errors.flatMap((item) => {
    if (!(item instanceof BulkRecordError)) return [`${field}: a row is invalid`];
    const index = indexOf((item.record as unknown as { get(): Record<string, unknown> }).get());
    if (!(item.errors instanceof ValidationError)) return [`${field}.${index} is invalid`];
    return item.errors.errors.map((detail) => validationMessage(detail, `${field}.${index}.`));
  });
  return new BadRequestException(messages);
}
