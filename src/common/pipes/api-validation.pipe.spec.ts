import { BadRequestException, type ArgumentMetadata, type Type, ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
import { IsInt } from 'class-validator';
import { ListPostsQueryDto, PostIncludeQueryDto, UserPostsQueryDto } from '../../posts/dto/post-query.dto';
import { ListUsersQueryDto, TopAuthorsQueryDto, UserIncludeQueryDto } from '../../users/dto/user-query.dto';
import { ApiValidationPipe } from './api-validation.pipe';

const OPTIONS: ValidationPipeOptions = { whitelist: true, forbidNonWhitelisted: true, transform: true, forbidUnknownValues: true };

class RequiredQueryDto {
  @IsInt()
  readonly page!: number;
}

const query = (metatype: Type<unknown>): ArgumentMetadata => ({ type: 'query', metatype, data: undefined });

describe('ApiValidationPipe', () => {
  it.each([UserIncludeQueryDto, ListUsersQueryDto, TopAuthorsQueryDto, PostIncludeQueryDto, ListPostsQueryDto, UserPostsQueryDto])(
    'gives an empty query of %p what ValidationPipe gives, the first time and from the shortcut',
    async (metatype) => {
      const expected: unknown = await new ValidationPipe(OPTIONS).transform({}, query(metatype));
      const pipe = new ApiValidationPipe(OPTIONS);
      const first: unknown = await pipe.transform({}, query(metatype));
      const second: unknown = await pipe.transform(Object.create(null), query(metatype));
      for (const value of [first, second]) {
        expect(value).toBeInstanceOf(metatype);
        expect(value).toEqual(expected);
        expect({ ...(value as object) }).toEqual({ ...(expected as object) });
      }
      // A fresh instance each time: one request cannot change what the next one gets.
      expect(second).not.toBe(first);
    },
  );

  it('rejects an empty query every time when the class requires a parameter', async () => {
    const pipe = new ApiValidationPipe(OPTIONS);
    for (let i = 0; i < 2; i++) {
      await expect(pipe.transform({}, query(RequiredQueryDto))).rejects.toBeInstanceOf(BadRequestException);
    }
  });

  it('still validates a non-empty query after an empty one passed', async () => {
    const pipe = new ApiValidationPipe(OPTIONS);
    await pipe.transform({}, query(UserIncludeQueryDto));
    await expect(pipe.transform({ include: 'nope' }, query(UserIncludeQueryDto))).rejects.toMatchObject({
      response: { message: ['include must be one of the following values: posts'] },
    });
    await expect(pipe.transform({ x: '1' }, query(UserIncludeQueryDto))).rejects.toMatchObject({
      response: { message: ['property x should not exist'] },
    });
  });

  it('leaves empty bodies to the ordinary path', async () => {
    const pipe = new ApiValidationPipe(OPTIONS);
    const metadata: ArgumentMetadata = { type: 'body', metatype: RequiredQueryDto, data: undefined };
    for (let i = 0; i < 2; i++) await expect(pipe.transform({}, metadata)).rejects.toBeInstanceOf(BadRequestException);
  });
});
