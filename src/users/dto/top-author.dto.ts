import { ApiProperty, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'TopAuthor', description: 'A user and the number of its live posts' })
export class TopAuthorDto {
  @ApiProperty({ type: 'integer', minimum: 1 })
  readonly id!: number;

  @ApiProperty({ minLength: 2, maxLength: 100 })
  readonly name!: string;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Live posts by this user' })
  readonly postCount!: number;
}

@ApiSchema({ name: 'TopAuthors', description: 'Users with the most live posts' })
export class TopAuthorsResponseDto {
  @ApiProperty({ type: [TopAuthorDto] })
  readonly data!: TopAuthorDto[];
}
