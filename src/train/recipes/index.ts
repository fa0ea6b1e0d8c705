export { loadRecipe, parseRecipe, type RecipeOverrides } from './load.js';
export { BUILTIN_RECIPES } from './builtins.js';
export { RECIPE_SCHEMA, describeRecipeSchema } from './schema.js';
export type { Recipe, StageRecipe, RecipeData } from './types.js';
