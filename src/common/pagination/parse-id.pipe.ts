/**
 * Path ids are Postgres `serial` (int4) values. Anything else, including integers
 * beyond int4 that Postgres would reject with an error, is a 400 before any query runs.
 */
import { applyDecorators, BadRequestException, Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { MAX_ID } from './input-rules';

@Injectable()
export class ParseIdPipe implements PipeTransform<unknown, number> {
  transform(value: unknown, metadata: ArgumentMetadata): number {
    if (typeof value === 'string' && /^\d{1,10}$/.test(value)) {
      const id = Number(value);
      if (id >= 1 && id <= MAX_ID) return id;
    }
    throw new BadRequestException(`${metadata.data ?? 'id'} must be an integer between 1 and ${MAX_ID}`);
  }
}

/** Documents a path id with the bounds ParseIdPipe enforces. */
export function ApiIdParam(name = 'id'): MethodDecorator {
  return applyDecorators(ApiParam({ name, required: true, schema: { type: 'integer', minimum: 1, maximum: MAX_ID } }));
}
