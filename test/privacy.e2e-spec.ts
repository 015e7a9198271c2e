/**
 * Privacy (issue 10): no response to a non-admin contains another user's email or another user's draft (or a
 * deleted post), over every list and include shape of the read API; the owner sees their own email and drafts,
 * and an admin sees everything. Every email, draft and deleted post carries a distinctive marker, and a response
 * must contain none of the markers its viewer may not see, and every marker of what it should show.
 */
import { randomUUID } from 'node:crypto';
import { createPost, createUser } from './utils/fixtures';
import { createTestApp, type TestApp } from './utils/test-app';

type Who = 'me' | 's1' | 's2' | 'boss';
/** The live users: a plain user (the viewer "me"), two strangers, and an admin. */
const PEOPLE: readonly Who[] = ['me', 's1', 's2', 'boss'];
const ALL = PEOPLE;

const MARK = randomUUID().slice(0, 8);
// Found by the `q` filter in every post, published or not.
const TOPIC = 'shared-topic';

const emailOf = (who: string) => `${who}-email-${MARK}@example.com`;
const draftTitleOf = (who: string) => `${who}-draft-${MARK} ${TOPIC}`;

interface Person {
  id: number;
  email: string;
  published: number;
  draft: number;
}

interface World {
  people: Record<Who, Person>;
  tokens: { me: string; boss: string };
  /** Text each viewer must not see: every email but their own, every draft and deleted post not theirs. */
  forbidden: (viewerId: number | undefined) => string[];
}

interface Shape {
  name: string;
  path: (w: World) => string;
  /** Whose email and whose drafts the response shows to an admin (a non-admin sees only their own). */
  emailsOf: readonly Who[];
  draftsOf: readonly Who[];
  /** The request names this person's draft: 404 for anyone but them and admins. */
  draftOf?: Who;
  /** Refused (403) to everyone but admins: sorting by a hidden field would give it away by the order. */
  adminOnly?: true;
}

const U = '/api/v1/users';
const P = '/api/v1/posts';

const SHAPES: readonly Shape[] = [
  { name: 'GET /users', path: () => `${U}?limit=100`, emailsOf: ALL, draftsOf: [] },
  { name: 'GET /users?include=posts', path: () => `${U}?include=posts&limit=100`, emailsOf: ALL, draftsOf: ALL },
  { name: 'GET /users?include=posts&published=true', path: () => `${U}?include=posts&published=true&limit=100`, emailsOf: ALL, draftsOf: [] },
  { name: 'GET /users?include=posts&published=false', path: () => `${U}?include=posts&published=false&limit=100`, emailsOf: ALL, draftsOf: ALL },
  { name: 'GET /users?role=user&include=posts', path: () => `${U}?role=user&include=posts&limit=100`, emailsOf: ['me', 's1', 's2'], draftsOf: ['me', 's1', 's2'] },
  { name: 'GET /users?role=admin&include=posts&published=false', path: () => `${U}?role=admin&include=posts&published=false`, emailsOf: ['boss'], draftsOf: ['boss'] },
  { name: 'GET /users?sort=email&include=posts', path: () => `${U}?sort=email&include=posts&limit=100`, emailsOf: ALL, draftsOf: ALL, adminOnly: true },
  { name: 'GET /users/stats/top-authors', path: () => `${U}/stats/top-authors`, emailsOf: [], draftsOf: [] },

  { name: 'GET /posts', path: () => `${P}?limit=100`, emailsOf: [], draftsOf: ALL },
  { name: 'GET /posts?include=author', path: () => `${P}?include=author&limit=100`, emailsOf: ALL, draftsOf: ALL },
  { name: 'GET /posts?published=false', path: () => `${P}?published=false&limit=100`, emailsOf: [], draftsOf: ALL },
  { name: 'GET /posts?published=false&include=author', path: () => `${P}?published=false&include=author&limit=100`, emailsOf: ALL, draftsOf: ALL },
  { name: `GET /posts?q=${TOPIC}`, path: () => `${P}?q=${TOPIC}&limit=100`, emailsOf: [], draftsOf: ALL },
  { name: `GET /posts?q=${TOPIC}&include=author`, path: () => `${P}?q=${TOPIC}&include=author&limit=100`, emailsOf: ALL, draftsOf: ALL },
  { name: 'GET /posts?q=draft&published=false&include=author', path: () => `${P}?q=draft&published=false&include=author&limit=100`, emailsOf: ALL, draftsOf: ALL },

  ...PEOPLE.flatMap((who): Shape[] => [
    { name: `GET /users/:${who}`, path: (w) => `${U}/${w.people[who].id}`, emailsOf: [who], draftsOf: [] },
    { name: `GET /users/:${who}?include=posts`, path: (w) => `${U}/${w.people[who].id}?include=posts`, emailsOf: [who], draftsOf: [who] },
    { name: `GET /users/:${who}?include=posts&published=false`, path: (w) => `${U}/${w.people[who].id}?include=posts&published=false`, emailsOf: [who], draftsOf: [who] },
    { name: `GET /users/:${who}/posts`, path: (w) => `${U}/${w.people[who].id}/posts`, emailsOf: [], draftsOf: [who] },
    { name: `GET /users/:${who}/posts?published=false&q=${TOPIC}`, path: (w) => `${U}/${w.people[who].id}/posts?published=false&q=${TOPIC}`, emailsOf: [], draftsOf: [who] },
    { name: `GET /posts?authorId=${who}&include=author`, path: (w) => `${P}?authorId=${w.people[who].id}&include=author`, emailsOf: [who], draftsOf: [who] },
    { name: `GET /posts?authorId=${who}&published=false`, path: (w) => `${P}?authorId=${w.people[who].id}&published=false`, emailsOf: [], draftsOf: [who] },
    { name: `GET /posts/:${who}-published?include=author`, path: (w) => `${P}/${w.people[who].published}?include=author`, emailsOf: [who], draftsOf: [] },
    { name: `GET /posts/:${who}-draft`, path: (w) => `${P}/${w.people[who].draft}`, emailsOf: [], draftsOf: [who], draftOf: who },
    { name: `GET /posts/:${who}-draft?include=author`, path: (w) => `${P}/${w.people[who].draft}?include=author`, emailsOf: [who], draftsOf: [who], draftOf: who },
  ]),
];

interface Viewer {
  name: string;
  /** Who the viewer is among PEOPLE; undefined: anonymous. */
  is?: Who;
  admin: boolean;
  token: (w: World) => string | null;
}

const VIEWERS: readonly Viewer[] = [
  { name: 'anonymous', admin: false, token: () => null },
  { name: 'a plain user (me)', is: 'me', admin: false, token: (w) => w.tokens.me },
  { name: 'an admin (boss)', is: 'boss', admin: true, token: (w) => w.tokens.boss },
];

/** Every object carrying an `email` key, however deep. */
function emailHolders(value: unknown): Array<{ id?: unknown; email: unknown }> {
  if (Array.isArray(value)) return value.flatMap(emailHolders);
  if (value === null || typeof value !== 'object') return [];
  const object = value as Record<string, unknown>;
  const own = 'email' in object ? [{ id: object.id, email: object.email }] : [];
  return [...own, ...Object.values(object).flatMap(emailHolders)];
}

async function buildWorld(t: TestApp): Promise<World> {
  await t.truncate();
  const people = {} as Record<Who, Person>;
  for (const who of PEOPLE) {
    const user = await createUser(t, { name: `Person ${who}`, email: emailOf(who), role: who === 'boss' ? 'admin' : 'user' });
    const published = await createPost(t, user.id, { title: `${who}-public-${MARK} ${TOPIC}`, body: `${who}-public-body-${MARK}`, published: true });
    const draft = await createPost(t, user.id, { title: draftTitleOf(who), body: `${who}-draft-body-${MARK} ${TOPIC}`, published: false });
    const deleted = await createPost(t, user.id, { title: `${who}-deleted-${MARK} ${TOPIC}`, body: `${who}-deleted-body-${MARK}`, published: true });
    expect((await t.request('DELETE', `${P}/${deleted.id}`)).status).toBe(204);
    people[who] = { id: user.id, email: user.email, published: published.id, draft: draft.id };
  }
  // A deleted user and the posts deleted with it: nobody's business any more.
  const gone = await createUser(t, { name: 'Person gone', email: emailOf('gone') });
  await createPost(t, gone.id, { title: `gone-public-${MARK} ${TOPIC}`, body: `gone-public-body-${MARK}`, published: true });
  await createPost(t, gone.id, { title: draftTitleOf('gone'), body: `gone-draft-body-${MARK} ${TOPIC}`, published: false });
  expect((await t.request('DELETE', `${U}/${gone.id}`)).status).toBe(204);

  // From the database, so that a user or post the fixtures did not name (the harness admin) is covered too.
  const users = await t.rows<{ id: number; email: string }>('SELECT id, email FROM users');
  const hidden = await t.rows<{ authorId: number; title: string; body: string }>(
    'SELECT "authorId", title, body FROM posts WHERE NOT published OR "deletedAt" IS NOT NULL',
  );
  expect(hidden.length).toBe(PEOPLE.length * 2 + 2);
  const forbidden = (viewerId: number | undefined) => [
    ...users.filter((user) => user.id !== viewerId).map((user) => user.email),
    ...hidden.filter((post) => post.authorId !== viewerId).flatMap((post) => [post.title, post.body]),
  ];
  return {
    people,
    tokens: {
      me: await t.tokenFor({ id: people.me.id, role: 'user' }),
      boss: await t.tokenFor({ id: people.boss.id, role: 'admin' }),
    },
    forbidden,
  };
}

describe('Privacy of emails and drafts (e2e)', () => {
  let t: TestApp;
  let w: World;

  beforeAll(async () => {
    t = await createTestApp();
    // Reads only below: one world serves every test.
    w = await buildWorld(t);
  });

  afterAll(async () => {
    await t.close();
  });

  describe.each(VIEWERS)('seen by $name', (viewer) => {
    it.each(SHAPES)('$name', async (shape) => {
      const response = await t.request('GET', shape.path(w), { as: viewer.token(w) });
      if (shape.adminOnly && !viewer.admin) {
        expect(response.status).toBe(403);
        return;
      }
      const seesDraft = shape.draftOf === undefined || viewer.admin || viewer.is === shape.draftOf;
      expect(response.status).toBe(seesDraft ? 200 : 404);
      // Parsed and serialised again: the same ASCII text as the raw body, with any \u escape decoded.
      const text = (typeof response.body === 'string' ? response.body : JSON.stringify(response.body)).toLowerCase();

      const viewerId = viewer.is === undefined ? undefined : w.people[viewer.is].id;
      if (!viewer.admin) {
        expect(w.forbidden(viewerId).filter((secret) => text.includes(secret.toLowerCase()))).toEqual([]);
        expect(emailHolders(response.body).filter((holder) => holder.id !== viewerId)).toEqual([]);
      }

      // What this viewer must see: everything for an admin, their own email and drafts for a user, nothing else.
      const shown = (whose: readonly Who[]) => whose.filter((who) => viewer.admin || who === viewer.is);
      if (seesDraft) {
        const expected = [...shown(shape.emailsOf).map((who) => w.people[who].email), ...shown(shape.draftsOf).map(draftTitleOf)];
        expect(expected.filter((secret) => !text.includes(secret.toLowerCase()))).toEqual([]);
      }
    });

    if (viewer.is !== undefined) {
      const is = viewer.is;
      it('GET /auth/me: their own email', async () => {
        const response = await t.request('GET', '/api/v1/auth/me', { as: viewer.token(w) });
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ id: w.people[is].id, email: w.people[is].email });
      });
    }
  });
});
