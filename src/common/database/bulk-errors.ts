/**
 * Turns the errors of a `bulkCreate(rows, { validate: true })` into a 400 that names each bad row's position.
 */
import { BadRequestException } from '@nestjs/common';
import { AggregateError, BulkRecordError, ValidationError } from 'sequelize';

/**
 * bulkCreate's `validate: true` reports every invalid row in one AggregateError of BulkRecordErrors, which name
 * the instance but not its position: `indexOf` finds it in the request. Anything else is rethrown untouched.
 * (The DTOs enforce the same rules first, so this is the model's last word, not the usual path.)
 */
export function badBulkRows(error: unknown, field: string, indexOf: (record: Record<string, unknown>) => number): unknown {
  if (!(error instanceof AggregateError)) return error;
  const messages = error.errors.flatMap((item) => {
    if (!(item instanceof BulkRecordError)) return [String(item.message)];
    const index = indexOf((item.record as unknown as { get(): Record<string, unknown> }).get());
    const details = item.errors instanceof ValidationError ? item.errors.errors.map((detail) => detail.message) : [item.message];
    return details.map((message) => `${field}.${index}: ${message}`);
  });
  return new BadRequestException(messages);
}
