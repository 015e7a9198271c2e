/**
 * The typed client a consumer of this API would build: openapi-fetch over the types openapi-typescript generates
 * from the committed openapi.json (`npm run openapi:client` writes ./schema.d.ts). Every response it receives is
 * also checked against the document, as the harness's `request()` does.
 */
import createClient, { type Client } from 'openapi-fetch';
import { openApiValidator } from '../utils/openapi-validator';
import type { components, paths } from './schema';

export type ApiClient = Client<paths>;
export type Schemas = components['schemas'];

export function createApiClient(baseUrl: string): ApiClient {
  return createClient<paths>({
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
}
