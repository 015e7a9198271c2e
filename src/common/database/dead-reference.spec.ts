import { UnprocessableEntityException } from '@nestjs/common';
import { ForeignKeyConstraintError, UniqueConstraintError } from 'sequelize';
import { answerDeadReferences, DeadReferenceError } from './dead-reference';

/** What Sequelize makes of a foreign_key_violation: pg's error, with the fields the server sent, as `parent`. */
function refusal(fields: { constraint?: string; column?: string }): ForeignKeyConstraintError {
  return new ForeignKeyConstraintError({ message: 'refused', parent: Object.assign(new Error('refused'), fields) as never });
}

describe('DeadReferenceError', () => {
  it('is made from a live-reference trigger’s refusal, naming the column, and stays a foreign key violation', () => {
    const dead = DeadReferenceError.from(refusal({ constraint: 'posts_author_id_live', column: 'authorId' }));
    expect(dead).toBeInstanceOf(DeadReferenceError);
    expect(dead).toBeInstanceOf(ForeignKeyConstraintError);
    expect(dead!.column).toBe('authorId');
  });

  it('leaves alone a plain foreign key violation, one without a column, and other errors', () => {
    expect(DeadReferenceError.from(refusal({ constraint: 'posts_authorId_fkey', column: 'authorId' }))).toBeNull();
    expect(DeadReferenceError.from(refusal({ constraint: 'posts_author_id_live' }))).toBeNull();
    expect(DeadReferenceError.from(new UniqueConstraintError({}))).toBeNull();
    expect(DeadReferenceError.from(new Error('other'))).toBeNull();
  });
});

describe('answerDeadReferences', () => {
  const answer = answerDeadReferences({
    authorId: () => {
      throw new UnprocessableEntityException('Author 3 does not exist');
    },
  });

  it('answers the reference it knows', () => {
    const dead = DeadReferenceError.from(refusal({ constraint: 'posts_author_id_live', column: 'authorId' }));
    expect(() => answer(dead)).toThrow(UnprocessableEntityException);
  });

  it('answers the trigger’s refusal as Sequelize raised it (repositories pass it on untouched)', () => {
    expect(() => answer(refusal({ constraint: 'posts_author_id_live', column: 'authorId' }))).toThrow(UnprocessableEntityException);
  });

  it('passes on a reference it has no answer for, and any other error, as they came', () => {
    const other = DeadReferenceError.from(refusal({ constraint: 'notes_gadget_id_live', column: 'gadgetId' }));
    expect(() => answer(other)).toThrow(other!);
    const error = new Error('boom');
    expect(() => answer(error)).toThrow(error);
  });
});
