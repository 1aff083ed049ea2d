/**
 * Pipedrive's wire types: only the fields threadbridge reads or writes. API v2 objects (persons,
 * deals) use RFC 3339 times and numeric ids; API v1 objects (notes, leads) use
 * "YYYY-MM-DD HH:MM:SS" UTC times, and leads have uuid ids.
 */

export type PipedriveId = number;

/** Every Pipedrive answer: `{ success, data, additional_data }`; failures `{ success:false, error, … }`. */
export interface PipedriveEnvelope<T> {
  success: boolean;
  data: T;
  additional_data?: {
    /** v2 cursor pagination. */
    next_cursor?: string | null;
    /** v1 offset pagination. */
    pagination?: { start: number; limit: number; more_items_in_collection: boolean; next_start?: number };
  } | null;
}

/** Pipedrive's error body (v1 and v2 alike). `error` is a sentence; `code`/`errorCode` when given. */
export interface PipedriveErrorBody {
  success: false;
  error?: string;
  error_info?: string;
  code?: string;
  errorCode?: number;
  data?: unknown;
  additional_data?: unknown;
}

export interface PipedrivePhone {
  value: string;
  label?: string;
  primary?: boolean;
}

/** A person as API v2 returns it. */
export interface PipedrivePerson {
  id: PipedriveId;
  name: string;
  phones?: PipedrivePhone[];
  emails?: { value: string; label?: string; primary?: boolean }[];
  add_time?: string;
  update_time?: string;
  is_deleted?: boolean;
  custom_fields?: Record<string, unknown>;
}

export interface PipedrivePersonInput {
  name?: string;
  phones?: PipedrivePhone[];
  custom_fields?: Record<string, unknown>;
}

/** One hit of GET /api/v2/persons/search: phones are plain strings there. */
export interface PipedrivePersonSearchItem {
  result_score?: number;
  item: { id: PipedriveId; type: 'person'; name: string; phones?: string[]; emails?: string[] };
}

/** A note as API v1 returns it (`content` is HTML). */
export interface PipedriveNote {
  id: PipedriveId;
  content: string;
  person_id?: PipedriveId | null;
  lead_id?: string | null;
  deal_id?: PipedriveId | null;
  add_time?: string;
  update_time?: string;
}

export interface PipedriveNoteInput extends Partial<PipedriveFileTarget> {
  content: string;
}

/** A file as API v1 returns it. */
export interface PipedriveFile {
  id: PipedriveId;
  name: string;
  file_name?: string;
  file_type?: string;
  file_size?: number;
  person_id?: PipedriveId | null;
  lead_id?: string | null;
  deal_id?: PipedriveId | null;
  add_time?: string;
}

/** What a note or file belongs to: the person, and the conversation's lead or deal. */
export interface PipedriveFileTarget {
  person_id: PipedriveId;
  lead_id?: string;
  deal_id?: PipedriveId;
}

/** A lead as API v1 returns it. */
export interface PipedriveLead {
  id: string;
  title: string;
  person_id?: PipedriveId | null;
  owner_id?: PipedriveId;
  label_ids?: string[];
  is_archived?: boolean;
  add_time?: string;
  update_time?: string;
}

export interface PipedriveLeadInput {
  title: string;
  person_id: PipedriveId;
  owner_id?: PipedriveId;
  label_ids?: string[];
}

/** A deal as API v2 returns it. */
export interface PipedriveDeal {
  id: PipedriveId;
  title: string;
  person_id?: PipedriveId | null;
  status: 'open' | 'won' | 'lost' | 'deleted';
  is_deleted?: boolean;
  add_time?: string;
  update_time?: string;
}

/** GET /api/v1/users/me: the API token's own user. */
export interface PipedriveUser {
  id: PipedriveId;
  name?: string;
  company_id?: PipedriveId;
  company_domain?: string;
}
