import type { Customer, RemoteRef } from '../../connectors/_sdk/contract';
import type { ErasureReceiptEntity } from './entities/erasure-receipt.entity';
import type { ErasedCounts } from './entities/erasure-request.entity';
import type { ErasureStatus } from './erasure.policy';

/** Outbox kind of an erasure fan-out task (queue `privacy`). */
export const ERASE_CONTACT_TASK = 'erase-contact';

/**
 * What an erasure task carries: captured before the local rows were deleted, because afterwards
 * nothing else knows the customer. `customer` and `remote` are removed from the task once its
 * receipt is settled.
 */
export interface EraseContactPayload {
  erasureId: string;
  receiptId: string;
  contactId: string;
  connectionName: string;
  customer?: Customer;
  /** The remote contact the connection's link pointed to; absent when none was synced. */
  remote?: RemoteRef;
}

/** An erasure request and where it reached, as the API shows it. */
export interface ErasureView {
  id: string;
  contactId: string;
  status: ErasureStatus;
  requestedAt: Date;
  completedAt: Date | null;
  /** What this database removed (counts only). */
  erased: ErasedCounts;
  receipts: ReceiptView[];
}

export type ReceiptView = Pick<ErasureReceiptEntity, 'target' | 'targetName' | 'connectionId' | 'connectorId' | 'status' | 'detail' | 'attempts' | 'updatedAt' | 'completedAt'>;
