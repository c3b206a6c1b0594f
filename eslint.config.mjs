// @ts-check
// `npm run lint`: ESLint with typescript-eslint's recommended type-checked rules.
// Every rule turned off or tuned below says why. Fix what a rule finds in new
// code rather than adding an exception; an exception goes here, with its reason.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['migration-templates/**', 'dist/**', 'node_modules/**', '**/fixtures/**', 'docs/**', '.apartment-demo/**', '**/*.js', '**/*.cjs', '**/*.mjs'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: {
      // Older files carry directives for rules typescript-eslint has since removed
      // (`no-var-requires`); reporting them would be noise, not a finding.
      reportUnusedDisableDirectives: 'off',
    },
    rules: {
      // This package wraps Sequelize v6's internals (Query, QueryInterface, the
      // association classes, sequelize-pool, the drivers), which Sequelize types as
      // `any` or not at all; every access through them would need a cast that
      // states nothing the code does not. The public signatures are kept free of
      // `any` by a test that reads the published .d.ts files.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // Sequelize's hook and method tables are typed `Function`, and the wrappers
      // that replace their entries keep that type.
      '@typescript-eslint/no-unsafe-function-type': 'off',
      // Lazy loading: dialect adapters, optional peers (express, fastify, ...) and
      // the CLI's libraries load with require() on first use, which a static
      // import cannot do and a dynamic import() would make asynchronous.
      '@typescript-eslint/no-require-imports': 'off',
      // Methods implementing an async contract (adapter methods, framework hooks,
      // test callbacks) are async without awaiting anything.
      '@typescript-eslint/require-await': 'off',
      // Patching internals keeps the original method (`const acquire = pool.acquire`)
      // and calls it with `.call(pool, ...)`, which this rule cannot see.
      '@typescript-eslint/unbound-method': 'off',
      // A driver's callback error (typed unknown) is passed to reject() unchanged,
      // so the caller sees the driver's own error.
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      // Error messages show a bad value as given, with String(value), `[object Object]` included.
      '@typescript-eslint/no-base-to-string': 'off',
      // 108 existing assertions, most restating a type Sequelize loses; removing them
      // is a mass edit of files other changes are in flight on. New code: don't add them.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Rethrowing what a callback threw (typed unknown) unchanged.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true }],
      // A `let` read by a closure declared before its one assignment (a killer loop
      // that the cleanup awaits) cannot be a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Express, Koa, Node's http and timers accept async callbacks; their rejections
      // are handled there (Express 5, Koa) or caught inside the callback.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      // Parameters keep the signature they implement (Express error handlers need
      // four); `_`-prefixed names and rest siblings are deliberate.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'none', caughtErrors: 'none', ignoreRestSiblings: true, varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The patched pg `query` mirrors pg's own overload handling: it forwards
    // `arguments` exactly and reassigns shifted parameters.
    files: ['lib/seam/pg.ts'],
    rules: { 'prefer-rest-params': 'off', 'no-useless-assignment': 'off' },
  },
  {
    // A tokenizer's comma expressions: `(push(i), (start = ++i))`.
    files: ['lib/dialects/statements.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
  {
    // migrateAll rethrows, after every tenant finished, the first error its
    // onProgress callback threw, unchanged (typed unknown, narrowed to `{}`).
    files: ['lib/migrations/migrator.ts'],
    rules: { '@typescript-eslint/only-throw-error': 'off' },
  },
  {
    // `proto` is a class prototype, never a null-prototype object.
    files: ['lib/routing/associations.ts'],
    rules: { 'no-prototype-builtins': 'off' },
  },
  {
    // `new Function('s', 'return import(s)')` keeps a real dynamic import() in the
    // CommonJS output (for ESM configs and migrations); no data is evaluated.
    files: ['lib/cli/config.ts', 'lib/migrations/files.ts'],
    rules: { '@typescript-eslint/no-implied-eval': 'off' },
  },
  {
    // Doc snippets show a value as an expression statement: `error instanceof NoTenantError; // true`.
    files: ['examples/readme/**'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: {
      // chai's property assertions: `expect(x).to.be.true`.
      '@typescript-eslint/no-unused-expressions': 'off',
      // Messages and logs interpolate whatever a server or a child process returned.
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/restrict-plus-operands': 'off',
      // Test models are typed `any & Model` on purpose, to reach dynamic attributes.
      '@typescript-eslint/no-redundant-type-constituents': 'off',
    },
  },
  {
    files: ['bench/**'],
    rules: {
      // A case rethrows a tenant's result error as is (`Error | undefined`, checked by `ok`).
      '@typescript-eslint/only-throw-error': 'off',
      // Measurements start at 0, so a case that fails half-way reports 0, not undefined.
      'no-useless-assignment': 'off',
    },
  },
);
