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
        file('../src/{{name}}/models/{{singular}}.model.ts', 'model.ts.hbs'),
        file('../src/{{name}}/{{name}}.repository.ts', 'repository.ts.hbs'),
        file('../src/{{name}}/{{name}}.policy.ts', 'policy.ts.hbs'),
        file('../src/{{name}}/{{name}}.service.ts', 'service.ts.hbs'),
        file('../src/{{name}}/{{name}}.controller.ts', 'controller.ts.hbs'),
        file('../src/{{name}}/{{name}}.module.ts', 'module.ts.hbs'),
        file('../src/{{name}}/dto/create-{{singular}}.dto.ts', 'create-dto.ts.hbs'),
        file('../src/{{name}}/dto/update-{{singular}}.dto.ts', 'update-dto.ts.hbs'),
        file('../src/{{name}}/dto/{{singular}}-response.dto.ts', 'response-dto.ts.hbs'),
        file('../src/{{name}}/dto/{{singular}}-query.dto.ts', 'query-dto.ts.hbs'),
        file('../test/{{name}}.e2e-spec.ts', 'e2e-spec.ts.hbs'),
        file('../test/access/{{name}}.access.ts', 'access.ts.hbs'),
        file('../test/fixtures/{{name}}.fixture.ts', 'fixture.ts.hbs'),
        // Wiring: the module into AppModule, its tag into the OpenAPI document, each above its anchor comment.
        {
          type: 'modify',
          path: '../src/app.module.ts',
          pattern: /(\/\/ generator: module imports)/,
          template: "import { {{Name}}Module } from './{{name}}/{{name}}.module';\n$1",
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
          template: "$1.addTag('{{name}}', '{{Name}}{{#if parent}}, each belonging to a {{parentSingular}}{{/if}}{{#if owned}}, written by users{{/if}}')\n$1$2",
        },
      ];
    },
  });
}
