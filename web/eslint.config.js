// ESLint for the console: TypeScript's recommended rules with type information, and the
// Rules of React (hooks and their dependencies, and the React Compiler's checks: no ref
// read or written while rendering, no setState straight from an effect, ...).
// `npm run lint` allows no warning.

import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig([
  globalIgnores(["dist", "node_modules"]),
  {
    files: ["**/*.{ts,tsx}"],
    extends: [
      js.configs.recommended,
      tseslint.configs.recommendedTypeChecked,
      reactHooks.configs.flat.recommended,
    ],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A caught failure becomes text through errorText (src/api.ts) only.
      "no-restricted-syntax": [
        "error",
        {
          selector: "ConditionalExpression > BinaryExpression[operator='instanceof'][right.name='Error']",
          message: "Use errorText() from src/api.ts to turn a failure into text.",
        },
      ],
    },
  },
  {
    // Outside tsconfig.json's project (it runs in Node, with Node's types).
    files: ["vite.config.ts"],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ["src/api.ts"],
    rules: { "no-restricted-syntax": "off" },
  },
  {
    files: ["**/*.js"],
    extends: [js.configs.recommended],
  },
]);
