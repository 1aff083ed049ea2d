import { InitialSchema1763700000000 } from './1763700000000-InitialSchema';
import { SyncEngine1763800000000 } from './1763800000000-SyncEngine';
import { IngestFunction1763900000000 } from './1763900000000-IngestFunction';
import { AccessControl1764000000000 } from './1764000000000-AccessControl';
import { Consent1764100000000 } from './1764100000000-Consent';
import { Privacy1764200000000 } from './1764200000000-Privacy';
import { IngestTombstones1764200000001 } from './1764200000001-IngestTombstones';
import { Replies1764300000000 } from './1764300000000-Replies';
import { IngestSetBased1764400000000 } from './1764400000000-IngestSetBased';
import { UnstorableContent1764500000000 } from './1764500000000-UnstorableContent';
import { TaskLeaseTokens1764600000000 } from './1764600000000-TaskLeaseTokens';
import { IngestFunctionSource1764700000000 } from './1764700000000-IngestFunctionSource';
import { ServicePolicy1764800000000 } from './1764800000000-ServicePolicy';
import { ConsoleSessions1764900000000 } from './1764900000000-ConsoleSessions';
import { SyncAttempts1765000000000 } from './1765000000000-SyncAttempts';

/** Every migration, oldest first. Listed by hand (no glob) so the same list works compiled and in tests. */
export const MIGRATIONS = [InitialSchema1763700000000, SyncEngine1763800000000, IngestFunction1763900000000, AccessControl1764000000000, Consent1764100000000, Privacy1764200000000, IngestTombstones1764200000001, Replies1764300000000, IngestSetBased1764400000000, UnstorableContent1764500000000, TaskLeaseTokens1764600000000, IngestFunctionSource1764700000000, ServicePolicy1764800000000, ConsoleSessions1764900000000, SyncAttempts1765000000000];
