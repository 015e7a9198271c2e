/**
 * A live row's references (its author, its parent) must name live rows. The database checks it: a trigger per
 * reference, `<table>_<column>_live`, runs on every INSERT and every UPDATE of the reference, share-locks the row
 * referenced until the transaction ends (so a concurrent delete waits, then takes the new row along), and refuses a
 * missing or soft-deleted one with a foreign_key_violation naming the trigger and the column
 * (migrations/20261206000001-live-references.js; generated modules' migrations).
 *
 * Repositories pass the refusal on as Sequelize raised it; services answer it in their own terms with
 * `answerDeadReferences`, which reads it as a DeadReferenceError naming the column (422 for a post's author named in
 * the body, 404 for a parent named in the path, 401 for a caller whose account is gone). Unanswered, it is a foreign
 * key violation like any other: the global filter's 422.
 */
import { ForeignKeyConstraintError } from 'sequelize';

export class DeadReferenceError extends ForeignKeyConstraintError {
  /** `column`: the reference refused, e.g. `authorId`. */
  constructor(
    readonly column: string,
    refusal: ForeignKeyConstraintError,
  ) {
    super({ message: refusal.message, index: refusal.index, table: refusal.table, parent: refusal.parent as never });
  }

  /** The refusal of a live-reference trigger as a DeadReferenceError; null for any other error. */
  static from(error: unknown): DeadReferenceError | null {
    if (!(error instanceof ForeignKeyConstraintError)) return null;
    const { constraint, column } = error.parent as { constraint?: string; column?: string };
    return constraint?.endsWith('_live') && column ? new DeadReferenceError(column, error) : null;
  }
}

/**
 * For a write's `.catch`: answers a dead reference by its column (each answer throws, with `enforce` or an HTTP
 * exception); any other error, or a reference without an answer, passes on as it came.
 */
export function answerDeadReferences(answers: Readonly<Record<string, () => void>>): (error: unknown) => never {
  return (error: unknown) => {
    const dead = DeadReferenceError.from(error);
    if (dead) answers[dead.column]?.();
    throw error;
  };
}
