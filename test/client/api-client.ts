/**
 * The typed client a consumer of this API would build: openapi-fetch over the types openapi-typescript generates
 * from the committed openapi.json (`npm run openapi:client` writes ./schema.d.ts). It authenticates the way the
 * document's bearer scheme says (an openapi-fetch middleware adds `Authorization: Bearer <access token>`), and every
 * response it receives is also checked against the document, as the harness's `request()` does.
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import { openApiValidator } from '../utils/openapi-validator';
import type { components, paths } from './schema';

export type ApiClient = Client<paths>;
export type Schemas = components['schemas'];

/**
 * The access token to send: a fixed one, or a function read before every request (so a consumer can swap in the
 * token a login or a refresh returned). Nothing, or a function returning nothing, sends the request anonymously.
 */
export type AccessToken = string | (() => string | undefined);

/** Sends the current access token as a bearer credential, unless the call set its own Authorization header. */
export function bearerAuth(accessToken: AccessToken): Middleware {
  return {
    onRequest({ request }) {
      const token = typeof accessToken === 'function' ? accessToken() : accessToken;
      if (token !== undefined && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`);
      return request;
    },
  };
}

export function createApiClient(baseUrl: string, options: { accessToken?: AccessToken } = {}): ApiClient {
  const client = createClient<paths>({
    baseUrl,
    fetch: async (request) => {
      const response = await fetch(request);
      const url = new URL(request.url);
      openApiValidator().assert({
        method: request.method,
        url: `${url.pathname}${url.search}`,
        status: response.status,
        headers: response.headers,
        text: await response.clone().text(),
      });
      return response;
    },
  });
  if (options.accessToken !== undefined) client.use(bearerAuth(options.accessToken));
  return client;
}
