/**
 * Checks HTTP responses against the committed OpenAPI document (openapi.json), so that the e2e suite proves
 * the document true: the status must be declared for the operation the request reached, the body must
 * validate against the declared schema, and required response headers must be present.
 *
 * Objects are validated closed (`additionalProperties: false` unless the document says otherwise): a field the
 * document does not declare, such as `deletedAt` leaking out of a model, is a failure. Clients may still treat
 * the document as open; this is the server holding itself to what it promises.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

export const OPENAPI_FILE = path.resolve(__dirname, '..', '..', 'openapi.json');

const DOCUMENT_ID = 'openapi.json';
/** Served by SwaggerModule next to the API, not described by the document. */
const NOT_API = /^\/docs(?:[/?-]|$)/;

type Json = Record<string, any>;

export interface ObservedResponse {
  method: string;
  /** Path and query, as requested. */
  url: string;
  status: number;
  headers: Headers;
  /** The raw body text. */
  text: string;
}

export interface CheckOptions {
  /** Test-only routes (added with createTestApp's `imports`) are not in the document: skip what it does not describe. */
  allowUndocumentedPaths?: boolean;
}

interface Route {
  template: string;
  pattern: RegExp;
  params: number;
  item: Json;
}

export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly routes: Route[];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly document: Json) {
    // strict off: OpenAPI 3.0 schemas carry keywords JSON Schema does not know (example, nullable is handled by Ajv).
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    // class-validator's isEmail (what the API accepts) allows UTF-8 local parts that the RFC 5321 `email` format
    // rejects; the response only has to be an address the API took.
    this.ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/);
    this.ajv.addSchema({ $id: DOCUMENT_ID, components: closeObjects(document.components ?? {}) });
    this.routes = Object.entries<Json>(document.paths).map(([template, item]) => ({
      template,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
      params: (template.match(/\{/g) ?? []).length,
      item,
    }));
  }

  static fromFile(file = OPENAPI_FILE): OpenApiValidator {
    return new OpenApiValidator(JSON.parse(readFileSync(file, 'utf8')) as Json);
  }

  /** Every way the response departs from the document; empty when it conforms. */
  problems(response: ObservedResponse, options: CheckOptions = {}): string[] {
    const pathname = new URL(response.url, 'http://localhost').pathname;
    if (NOT_API.test(pathname)) return [];
    const method = response.method.toLowerCase();
    // Fastify answers HEAD for every GET route: same statuses and headers, no body.
    const lookup = method === 'head' ? 'get' : method;
    const candidates = this.routes.filter((route) => route.pattern.test(pathname));
    // The router prefers static segments (`/users/bulk` over `/users/{id}`) among routes that have the method.
    const route = candidates.filter((candidate) => candidate.item[lookup]).sort((a, b) => a.params - b.params)[0];
    const operation: Json | undefined = route?.item[lookup];

    if (!operation) {
      if (options.allowUndocumentedPaths) return [];
      // No operation: the only honest answer is the router's 404, in the error shape.
      if (response.status !== 404) {
        return [`no operation in the document serves ${method.toUpperCase()} ${pathname}, yet the response was ${response.status} (expected 404)`];
      }
      return this.checkBody(response, 'no route (404)', { $ref: `${DOCUMENT_ID}#/components/schemas/ErrorResponse` }, method === 'head');
    }

    const name = `${operation.operationId ?? `${lookup} ${route.template}`}`;
    const declared = operation.responses as Json;
    const spec = this.resolve(declared[String(response.status)] ?? declared.default);
    if (!spec) {
      return [`status ${response.status} is not declared for ${name} (declared: ${Object.keys(declared).join(', ')})`];
    }

    const problems: string[] = [];
    for (const [header, headerSpec] of Object.entries<Json>(spec.headers ?? {})) {
      if (this.resolve(headerSpec)?.required && !response.headers.has(header)) {
        problems.push(`${name} → ${response.status}: required header ${header} is missing`);
      }
    }

    const content = spec.content as Json | undefined;
    if (!content) {
      if (response.text !== '') problems.push(`${name} → ${response.status}: the document declares no body, got ${JSON.stringify(response.text.slice(0, 200))}`);
      return problems;
    }
    const contentType = (response.headers.get('content-type') ?? '').split(';')[0].trim();
    const mediaType = content[contentType] as Json | undefined;
    if (!mediaType) {
      return [...problems, `${name} → ${response.status}: content type "${contentType}" is not declared (declared: ${Object.keys(content).join(', ')})`];
    }
    const schema = mediaType.schema ? rewriteRefs(mediaType.schema) : undefined;
    return [...problems, ...this.checkBody(response, `${name} → ${response.status}`, schema, method === 'head')];
  }

  /** Throws with every problem listed, so the test that made the request fails where it made it. */
  assert(response: ObservedResponse, options: CheckOptions = {}): void {
    const problems = this.problems(response, options);
    if (problems.length > 0) {
      throw new Error(
        `Response to ${response.method} ${response.url} does not match openapi.json:\n  - ${problems.join('\n  - ')}\n` +
          'Fix the response, or the controller/DTO decorators and then `npm run openapi`.',
      );
    }
  }

  private checkBody(response: ObservedResponse, where: string, schema: Json | undefined, isHead: boolean): string[] {
    if (isHead || !schema) return [];
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch {
      return [`${where}: body is not JSON: ${JSON.stringify(response.text.slice(0, 200))}`];
    }
    const key = JSON.stringify(schema);
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(key, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map((error) => `${where}: body${formatError(error)}`);
  }

  private resolve(value: Json | undefined): Json | undefined {
    let current = value;
    while (current && typeof current.$ref === 'string') {
      current = (current.$ref as string)
        .replace(/^#\//, '')
        .split('/')
        .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
        .reduce<Json | undefined>((node, segment) => node?.[segment], this.document);
    }
    return current;
  }
}

function formatError(error: ErrorObject): string {
  const extra = error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : '';
  return `${error.instancePath || ''} ${error.message ?? error.keyword}${extra}`;
}

/** Points local refs at the registered document, so any schema fragment compiles on its own. */
function rewriteRefs(node: unknown): any {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, key === '$ref' && typeof value === 'string' && value.startsWith('#/') ? `${DOCUMENT_ID}${value}` : rewriteRefs(value)]),
  );
}

/** Schemas with declared properties and no word on others accept no others (see the file comment). */
function closeObjects(node: unknown): any {
  const rewritten = rewriteRefs(node);
  const close = (value: any): any => {
    if (Array.isArray(value)) return value.map(close);
    if (value === null || typeof value !== 'object') return value;
    const copy = Object.fromEntries(Object.entries(value).map(([key, child]) => [key, key === 'example' ? child : close(child)]));
    if (copy.properties && typeof copy.properties === 'object' && !('additionalProperties' in copy)) copy.additionalProperties = false;
    return copy;
  };
  return close(rewritten);
}

let shared: OpenApiValidator | undefined;

/** The committed document's validator, loaded once per test worker. */
export function openApiValidator(): OpenApiValidator {
  shared ??= OpenApiValidator.fromFile();
  return shared;
}
