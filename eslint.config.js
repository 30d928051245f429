import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Layers point inward: cli -> pipeline -> adapters -> io -> core. */
const layer = (files, forbidden) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', { patterns: forbidden.map((group) => ({ group: [group], message: 'dependencies point inward' })) }],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'out/**', 'coverage/**', '.scratch/**', '.bench/**', '.lsar-cache/**', 'tests/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    // type-aware rules: a promise nobody awaits is a failure nobody sees
    files: ['src/**/*.ts', 'tests/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
    },
  },
  {
    // core is pure maths: no I/O, no native modules, nothing above it
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['node:*', 'fs', 'path', 'hnswlib-node', '@huggingface/*', '**/io/*', '**/pipeline/*', '**/cli/*', '**/adapters/*'] },
      ],
    },
  },
  layer(['src/io/**/*.ts'], ['**/adapters/*', '**/pipeline/**', '**/cli/**']),
  layer(['src/adapters/**/*.ts'], ['**/pipeline/**', '**/cli/**']),
  layer(['src/pipeline/**/*.ts'], ['**/cli/**']),
);
