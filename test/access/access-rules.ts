/**
 * The vocabulary of the access matrix (test/access-matrix.e2e-spec.ts): who calls, the fixtures each cell starts
 * from, and a rule per operation and target. The matrix holds the rows of the hand-written modules; each generated
 * module brings its own rows in `test/access/<module>.access.ts`, which the matrix collects.
 */
import { randomUUID } from 'node:crypto';
import type { TestApp } from '../utils/test-app';

export const IDENTITIES = ['anonymous', 'other', 'owner', 'admin'] as const;
export type Identity = (typeof IDENTITIES)[number];

/** The fixtures every cell starts from. */
export interface World {
  owner: { id: number; email: string; token: string };
  other: { id: number; token: string };
  admin: { id: number; token: string };
  /** The owner's posts. */
  published: number;
  draft: number;
  deletedPost: number;
  /** A third user, soft-deleted. */
  deletedUser: number;
}

export interface Call {
  path: string;
  body?: unknown;
}

export interface Rule {
  method: string;
  /** The path as openapi.json names it. */
  route: string;
  target: string;
  expected: Record<Identity, number>;
  call: (w: World, t: TestApp) => Call | Promise<Call>;
}

export function rule(operation: string, target: string, anonymous: number, other: number, owner: number, admin: number, call: Rule['call']): Rule {
  const [method, route] = operation.split(/\s+/);
  return { method, route, target, expected: { anonymous, other, owner, admin }, call };
}

export const to = (path: string, body?: unknown): Call => ({ path, body });
export const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
