import { InitialSchema1763700000000 } from './1763700000000-InitialSchema';

/** Every migration, oldest first. Listed by hand (no glob) so the same list works compiled and in tests. */
export const MIGRATIONS = [InitialSchema1763700000000];
