/**
 * Entity tags for conditional requests (RFC 9110 §8.8.3, §13). A versioned row's representation has the strong tag
 * `"<id>.<version>"`: the version is the row's optimistic-locking counter, which every write through the model
 * increments, so the tag changes exactly when the row does.
 *
 * Services mark a response body with its row's tag (`withEntityTag`); the tag travels on the body as a hidden,
 * non-enumerable property, so it is never serialised, and a Fastify hook sends it as `ETag` (entity-tag-hooks.ts). A body
 * that embeds other rows (a post with its author, a user with posts) is left unmarked: its tag would not change when
 * they do.
 */
import { PreconditionFailedException } from '@nestjs/common';

const ENTITY_TAG = Symbol('entity tag');

export interface Versioned {
  readonly id: number;
  readonly version: number;
}

export function entityTag(row: Versioned): string {
  return `"${row.id}.${row.version}"`;
}

/** Marks `body` as the representation of `row`, at its version. */
export function withEntityTag<T extends object>(body: T, row: Versioned): T {
  Object.defineProperty(body, ENTITY_TAG, { value: entityTag(row), enumerable: false });
  return body;
}

export function entityTagOf(body: unknown): string | undefined {
  return typeof body === 'object' && body !== null ? (body as { [ENTITY_TAG]?: string })[ENTITY_TAG] : undefined;
}

/** An If-Match or If-None-Match field: any current representation, or a list of tags. */
export type TagCondition = { readonly any: true } | { readonly any: false; readonly tags: ReadonlyArray<{ readonly weak: boolean; readonly opaque: string }> };

// One list member: an optional weak prefix, then a quoted opaque tag (etagc: 0x21, 0x23-0x7E, obs-text).
const MEMBER = /[ \t]*(W\/)?("[\x21\x23-\x7E\x80-\xFF]*")[ \t]*(?:,|$)/y;
const EMPTY_MEMBER = /[ \t]*,/y;

/** The parsed field, or null when it is not `*` or a list of entity tags (a 400). */
export function parseTagCondition(field: string): TagCondition | null {
  if (field.trim() === '*') return { any: true };
  const tags: Array<{ weak: boolean; opaque: string }> = [];
  let at = 0;
  while (at < field.length) {
    EMPTY_MEMBER.lastIndex = at;
    if (EMPTY_MEMBER.test(field)) {
      at = EMPTY_MEMBER.lastIndex;
      continue;
    }
    MEMBER.lastIndex = at;
    const match = MEMBER.exec(field);
    if (!match) return field.slice(at).trim() === '' && tags.length > 0 ? { any: false, tags } : null;
    tags.push({ weak: match[1] !== undefined, opaque: match[2] });
    at = MEMBER.lastIndex;
  }
  return tags.length > 0 ? { any: false, tags } : null;
}

/** If-Match holds: strong comparison, a weak tag never matches (§13.1.1). */
export function ifMatchHolds(condition: TagCondition, current: string): boolean {
  return condition.any || condition.tags.some((tag) => !tag.weak && tag.opaque === current);
}

/** If-None-Match fails (the client's copy is current): weak comparison (§13.1.2). */
export function noneMatchFails(condition: TagCondition, current: string): boolean {
  return condition.any || condition.tags.some((tag) => tag.opaque === current);
}

/** 412: the row changed since the client read it. The filter sends the current tag as `ETag` too. */
export class StaleEntityTagException extends PreconditionFailedException {
  constructor(
    resource: string,
    readonly currentTag: string,
  ) {
    super(`${resource} has changed since the If-Match tag was read: its current ETag is ${currentTag}`);
  }
}
