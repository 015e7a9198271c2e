/**
 * The module generator (plop): `npm run generate -- module <name> [--parent <module>] [--owned]`, run through
 * scripts/generate.ts, which checks the arguments, computes the names below and regenerates the OpenAPI document
 * and the client types afterwards. Templates are in ./templates; what they produce is described in the README
 * ("Adding a feature module").
 */
export default function (plop) {
  plop.setGenerator('module', {
    description: 'A feature module in the house shape: migration, model, repository, policy, service, controller, DTOs, tests',
    prompts: [],
    actions: (data) => {
      const file = (path, template) => ({ type: 'add', path, templateFile: `templates/${template}`, abortOnFail: true });
      return [
        file('../migrations/{{migrationFile}}', 'migration.js.hbs'),
        file('../src/{{file}}/models/{{singularFile}}.model.ts', 'model.ts.hbs'),
        file('../src/{{file}}/{{file}}.repository.ts', 'repository.ts.hbs'),
        file('../src/{{file}}/{{file}}.policy.ts', 'policy.ts.hbs'),
        file('../src/{{file}}/{{file}}.service.ts', 'service.ts.hbs'),
        file('../src/{{file}}/{{file}}.controller.ts', 'controller.ts.hbs'),
        file('../src/{{file}}/{{file}}.module.ts', 'module.ts.hbs'),
        file('../src/{{file}}/dto/create-{{singularFile}}.dto.ts', 'create-dto.ts.hbs'),
        file('../src/{{file}}/dto/update-{{singularFile}}.dto.ts', 'update-dto.ts.hbs'),
        file('../src/{{file}}/dto/{{singularFile}}-response.dto.ts', 'response-dto.ts.hbs'),
        file('../src/{{file}}/dto/{{singularFile}}-query.dto.ts', 'query-dto.ts.hbs'),
        file('../test/{{file}}.e2e-spec.ts', 'e2e-spec.ts.hbs'),
        file('../test/access/{{file}}.access.ts', 'access.ts.hbs'),
        file('../test/fixtures/{{file}}.fixture.ts', 'fixture.ts.hbs'),
        // Wiring: the module into AppModule, its tag into the OpenAPI document, each above its anchor comment.
        {
          type: 'modify',
          path: '../src/app.module.ts',
          pattern: /(\/\/ generator: module imports)/,
          template: "import { {{Name}}Module } from './{{file}}/{{file}}.module';\n$1",
        },
        {
          type: 'modify',
          path: '../src/app.module.ts',
          pattern: /( *)(\/\/ generator: modules)/,
          template: '$1{{Name}}Module,\n$1$2',
        },
        {
          type: 'modify',
          path: '../src/common/openapi/openapi-document.ts',
          pattern: /( *)(\/\/ generator: tags)/,
          template: "$1.addTag('{{route}}', '{{Name}}{{#if parent}}, each belonging to a {{parentSingular}}{{/if}}{{#if owned}}, written by users{{/if}}')\n$1$2",
        },
      ];
    },
  });
}
