import { BadRequestException, type ArgumentMetadata, type Type, ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
import { IsInt } from 'class-validator';
import { ListPostsQueryDto, PostIncludeQueryDto, UserPostsQueryDto } from '../../posts/dto/post-query.dto';
import { CreateUserWithPostsDto } from '../../users/dto/create-user-with-posts.dto';
// After the module above, which loads the user and post response DTOs (they import each other) in the order that works.
import { BulkUpsertUsersDto } from '../../users/dto/bulk-upsert-users.dto';
import { CreateUserDto } from '../../users/dto/create-user.dto';
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

  describe('messages', () => {
    const messagesFor = async (value: unknown, metadata: ArgumentMetadata): Promise<unknown> => {
      const error: unknown = await new ApiValidationPipe(OPTIONS).transform(value, metadata).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BadRequestException);
      return ((error as BadRequestException).getResponse() as { message: unknown }).message;
    };
    const body = (metatype: Type<unknown>): ArgumentMetadata => ({ type: 'body', metatype, data: undefined });

    it.each(['abc', '1e2', '1.5', '', ['1', '2']])('a limit of the wrong type (%j) is reported as that alone', async (limit) => {
      await expect(messagesFor({ limit }, query(ListUsersQueryDto))).resolves.toEqual(['limit must be an integer number']);
    });

    it.each([
      ['0', ['limit must not be less than 1']],
      ['101', ['limit must not be greater than 100']],
    ])('an integer limit out of range (%s) gets its range message', async (limit, messages) => {
      await expect(messagesFor({ limit }, query(ListUsersQueryDto))).resolves.toEqual(messages);
    });

    it('a body field of the wrong type gets the type message only; other fields keep all of theirs', async () => {
      await expect(messagesFor({ name: 5, email: 'not-an-email', role: 'boss' }, body(CreateUserDto))).resolves.toEqual([
        'name must be a string',
        'email must be an email address',
        'role must be one of the following values: user, admin',
      ]);
      await expect(messagesFor({ name: 'x', email: 'a@example.com' }, body(CreateUserDto))).resolves.toEqual([
        'name must be between 2 and 100 characters long',
      ]);
    });

    it.each([
      ['1', [1], 0],
      ['null', [null], 0],
      ['"x"', ['x'], 0],
      ['[]', [[]], 0],
      ['true', [true], 0],
      ['a valid row, then 1', [{ name: 'Ada', email: 'ada@example.com' }, 1], 1],
    ])('bulk users [%s]: only the item\'s own message, none of class-validator\'s "nested property" wording', async (_case, users, index) => {
      await expect(messagesFor({ users }, body(BulkUpsertUsersDto))).resolves.toEqual([`users.${index} must be an object`]);
    });

    it.each([
      ['1', [1], 0],
      ['null', [null], 0],
      ['"x"', ['x'], 0],
      ['a valid post, then 1', [{ title: 'T', body: 'B' }, 1], 1],
    ])('with-posts posts [%s]: only the item\'s own message', async (_case, posts, index) => {
      await expect(messagesFor({ name: 'Ada', email: 'ada@example.com', posts }, body(CreateUserWithPostsDto))).resolves.toEqual([`posts.${index} must be an object`]);
    });

    it('an array of objects keeps its items\' nested messages', async () => {
      await expect(messagesFor({ users: [{ name: 'Ada', email: 'ada@example.com' }, { name: 'B', email: 'b@example.com' }] }, body(BulkUpsertUsersDto))).resolves.toEqual([
        'users.1.name must be between 2 and 100 characters long',
      ]);
    });

    it('applies to nested items too', async () => {
      const messages = await messagesFor({ name: 'Ada', email: 'ada@example.com', posts: [{ title: 7, body: 'b' }] }, body(CreateUserWithPostsDto));
      expect(messages).toEqual(['posts.0.title must be a string']);
    });
  });
});
