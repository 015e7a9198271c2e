import { ApiProperty, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'TopAuthor', description: 'A user and the number of its live published posts' })
export class TopAuthorDto {
  @ApiProperty({ type: 'integer', minimum: 1 })
  readonly id!: number;

  @ApiProperty({ minLength: 2, maxLength: 100 })
  readonly name!: string;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Live published posts by this user (drafts are not counted)' })
  readonly postCount!: number;
}

@ApiSchema({ name: 'TopAuthors', description: 'Users with the most published posts' })
export class TopAuthorsResponseDto {
  @ApiProperty({ type: [TopAuthorDto] })
  readonly data!: TopAuthorDto[];
}
