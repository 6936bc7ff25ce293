// ESLint with typescript-eslint, type-aware: `npm run lint` (part of `npm test`) must report nothing.
import tseslint from "typescript-eslint";

export default tseslint.config(
	{ ignores: ["node_modules/**", "dist/**", "data/**", "bench/**", "eslint.config.mjs"] },
	...tseslint.configs.recommended,
	{
		languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
		linterOptions: { reportUnusedDisableDirectives: "error" },
		rules: {
			// a promise nobody awaits or catches is a rejection nobody sees (and, unhandled, ends the process)
			"@typescript-eslint/no-floating-promises": "error",
			"@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
			"@typescript-eslint/no-explicit-any": "error",
			"@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }]
		}
	},
	{
		files: ["test/**/*.ts"],
		rules: {
			// chai's property assertions (`expect(x).to.exist`) are expressions by design
			"@typescript-eslint/no-unused-expressions": "off"
		}
	},
	{
		files: ["test/support/http.ts"],
		rules: {
			// the e2e client's bodies default to `any`: each test reads the JSON it expects from the API
			"@typescript-eslint/no-explicit-any": "off"
		}
	}
);
