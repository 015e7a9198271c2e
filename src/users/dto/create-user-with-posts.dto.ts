import { ApiProperty, ApiSchema, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ValidateNested } from 'class-validator';
import { IsArrayOfObjects } from '../../common/validation/input-rules';
import { CreatePostDto } from '../../posts/dto/create-post.dto';
import { PostResponseDto } from '../../posts/dto/post-response.dto';
import { CreateAccountDto } from './create-user.dto';
import { UserResponseDto } from './user-response.dto';

export const MAX_POSTS_PER_NEW_USER = 100;

/** A post of a user being created: its author is that user. */
@ApiSchema({ name: 'NewUserPost', description: 'A post of the user being created' })
export class NewUserPostDto extends OmitType(CreatePostDto, ['authorId'] as const) {}

@ApiSchema({ name: 'CreateUserWithPosts', description: 'A new user and its posts, created together or not at all' })
export class CreateUserWithPostsDto extends CreateAccountDto {
  @ApiProperty({ type: () => [NewUserPostDto], minItems: 0, maxItems: MAX_POSTS_PER_NEW_USER })
  @IsArrayOfObjects()
  @ArrayMaxSize(MAX_POSTS_PER_NEW_USER)
  @ValidateNested({ each: true })
  @Type(() => NewUserPostDto)
  readonly posts!: NewUserPostDto[];
}

@ApiSchema({ name: 'UserWithPosts', description: 'A user created together with its posts' })
export class UserWithPostsResponseDto extends OmitType(UserResponseDto, ['posts'] as const) {
  @ApiProperty({ type: () => [PostResponseDto], description: 'In the order they were sent' })
  readonly posts!: PostResponseDto[];
}
