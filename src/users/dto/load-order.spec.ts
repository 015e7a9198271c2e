// The users and posts response DTOs embed each other's resource. When their files imported each other, loading the
// users side first failed at decoration time ("Cannot access 'UserResponseDto' before initialization"): the built
// app crashed or not depending on the order modules were imported in. Either order must load now.
describe('response DTOs load in any order', () => {
  it.each([
    ['users first', ['./user-response.dto', '../../posts/dto/post-response.dto']],
    ['posts first', ['../../posts/dto/post-response.dto', './user-response.dto']],
  ])('%s', (_name, files) => {
    jest.isolateModules(() => {
      // A fresh require per order: what jest.isolateModules gives, and what an import statement cannot.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      for (const file of files) expect(() => require(file)).not.toThrow();
    });
  });
});
