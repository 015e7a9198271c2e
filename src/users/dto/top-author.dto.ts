import { ApiProperty } from '@nestjs/swagger';

export class TopAuthorDto {
  @ApiProperty({ type: 'integer', minimum: 1 })
  readonly id!: number;

  @ApiProperty({ minLength: 2, maxLength: 100 })
  readonly name!: string;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Live posts by this user' })
  readonly postCount!: number;
}

export class TopAuthorsResponseDto {
  @ApiProperty({ type: [TopAuthorDto] })
  readonly data!: TopAuthorDto[];
}
