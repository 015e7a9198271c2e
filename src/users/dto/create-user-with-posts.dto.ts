import { ApiProperty, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, ValidateNested } from 'class-validator';
import { CreatePostDto } from '../../posts/dto/create-post.dto';
import { PostResponseDto } from '../../posts/dto/post-response.dto';
import { CreateUserDto } from './create-user.dto';
import { UserResponseDto } from './user-response.dto';

export const MAX_POSTS_PER_NEW_USER = 100;

/** A post of a user being created: its author is that user. */
export class NewUserPostDto extends OmitType(CreatePostDto, ['authorId'] as const) {}

export class CreateUserWithPostsDto extends CreateUserDto {
  @ApiProperty({ type: () => [NewUserPostDto], minItems: 0, maxItems: MAX_POSTS_PER_NEW_USER })
  @IsArray()
  @ArrayMaxSize(MAX_POSTS_PER_NEW_USER)
  @ValidateNested({ each: true })
  @Type(() => NewUserPostDto)
  readonly posts!: NewUserPostDto[];
}

export class UserWithPostsResponseDto extends OmitType(UserResponseDto, ['posts'] as const) {
  @ApiProperty({ type: () => [PostResponseDto], description: 'In the order they were sent' })
  readonly posts!: PostResponseDto[];
}
