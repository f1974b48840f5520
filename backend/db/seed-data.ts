/**
 * The global roles the API grants (`PUT /api/users/{id}/roles`) and the auth hook recognises. Their
 * rows, like the rest of the initial catalog, are inserted by migration 0002, which keeps its own frozen
 * copy of the data: editing anything here changes no database. A new role needs a new migration too.
 */
export const GLOBAL_ROLES = ['prime_admin', 'general_admin', 'developer'] as const;
export type GlobalRole = (typeof GLOBAL_ROLES)[number];
