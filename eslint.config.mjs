// Lint rules: typescript-eslint's recommended set over the TypeScript sources.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**', 'scratch/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // One transaction mechanism: the request interceptor, and inTransaction() for a savepoint inside it. A direct
    // sequelize.transaction() would open an independent transaction on a second pooled connection.
    files: ['src/**/*.ts'],
    ignores: ['src/common/database/transaction-context.ts', 'src/common/interceptors/transaction.interceptor.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.type='MemberExpression'][callee.property.name='transaction']",
          message: 'Use inTransaction() from common/database/transaction-context (a savepoint of the request transaction).',
        },
      ],
    },
  },
);
