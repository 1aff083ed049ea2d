import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ingestFunction, TOMBSTONE_CHECK } from './1764200000001-IngestTombstones';

/**
 * tb_ingest_inbound_batch stores a batch of customer messages with a few set-based statements
 * instead of one tb_ingest_inbound call per message. The rules are unchanged (see
 * 1763900000000-IngestFunction and 1764200000001-IngestTombstones); two things are new:
 *
 *  - Lock order. Concurrent batches that share customers used to lock conversations in whatever
 *    order their messages came, and deadlocked (Postgres waits deadlock_timeout, 1 s, then fails
 *    one batch). Now every batch creates contacts in wa_id order and locks its conversations in id
 *    order before it writes, so batches wait for each other in one order and never in a cycle.
 *  - Cost. Per message the work is one row in each statement rather than a plpgsql iteration of
 *    five statements: measured with `npm run bench:ingest` (CPU per message on the Postgres side).
 *
 * The lock also settles a race with the idle closer: conversations are locked only while still
 * open; one closed meanwhile makes the batch look again and open a new one (at most 3 rounds).
 *
 * tb_ingest_inbound(m) (one message, used where statuses share the transaction) becomes a batch
 * of one, so there is one implementation of the rules.
 */
const BATCH_FUNCTION = `
  CREATE OR REPLACE FUNCTION tb_ingest_inbound_batch(ms jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
  DECLARE
    v_items jsonb;          -- the deliveries to store, each with its position, contact and conversation
    v_conversations uuid[]; -- their conversations, locked in id order
    v_locked boolean;
    v_result jsonb;
  BEGIN
    FOR attempt IN 1..3 LOOP
      -- Erased wamids (tombstones) drop out here: answered like duplicates, nothing comes back.
      SELECT COALESCE(jsonb_agg(e.value || jsonb_build_object(
                 'ord', e.ord, 'contactId', k.id, 'conversationId', c.id,
                 'renamed', e.value->>'profileName' IS NOT NULL AND k.profile_name IS DISTINCT FROM e.value->>'profileName')
               ORDER BY e.ord), '[]'::jsonb)
        INTO v_items
        FROM jsonb_array_elements(ms) WITH ORDINALITY AS e(value, ord)
        -- LIMIT 1 keeps each lookup an index probe whatever the table statistics say.
        LEFT JOIN LATERAL (SELECT id, profile_name FROM contacts WHERE wa_id = e.value->>'waId' LIMIT 1) k ON true
        LEFT JOIN LATERAL (SELECT id FROM conversations
                             WHERE contact_id = k.id AND phone_number_id = e.value->>'phoneNumberId' AND status = 'open' LIMIT 1) c ON true
        WHERE NOT EXISTS (SELECT 1 FROM erased_messages t WHERE t.wamid_sha256 = sha256(convert_to(e.value->>'wamid', 'UTF8')));

      IF NOT jsonb_path_exists(v_items, '$[*] ? (@.conversationId == null)') THEN
        SELECT array_agg(DISTINCT (i->>'conversationId')::uuid) INTO v_conversations FROM jsonb_array_elements(v_items) i;
        SELECT count(*) = COALESCE(cardinality(v_conversations), 0) INTO v_locked
          FROM (SELECT 1 FROM conversations WHERE id = ANY(v_conversations) AND status = 'open' ORDER BY id FOR NO KEY UPDATE) l;
        EXIT WHEN v_locked;
      END IF;
      IF attempt = 3 THEN
        RAISE EXCEPTION 'tb_ingest_inbound_batch: no open conversation after 3 rounds';
      END IF;

      -- New customers, then conversations where none is open; both in key order, and a
      -- concurrent batch that inserted the same key first wins (the next round reads its row).
      INSERT INTO contacts (wa_id, e164, profile_name)
        SELECT DISTINCT ON (i."waId") i."waId", i.e164, i."profileName"
          FROM jsonb_to_recordset(v_items) AS i(ord int, "waId" text, e164 text, "profileName" text, "contactId" uuid)
          WHERE i."contactId" IS NULL
          ORDER BY i."waId", i.ord DESC
        ON CONFLICT (wa_id) DO NOTHING;
      INSERT INTO conversations (contact_id, phone_number_id, display_phone_number, opened_at)
        SELECT k.id, i."phoneNumberId", min(i."displayPhoneNumber"), min(i."waTimestamp")
          FROM jsonb_to_recordset(v_items) AS i("waId" text, "phoneNumberId" text, "displayPhoneNumber" text,
                                                "waTimestamp" timestamptz, "conversationId" uuid)
          CROSS JOIN LATERAL (SELECT id FROM contacts WHERE wa_id = i."waId" LIMIT 1) k
          WHERE i."conversationId" IS NULL
          GROUP BY k.id, i."phoneNumberId"
          ORDER BY k.id, i."phoneNumberId"
        ON CONFLICT (contact_id, phone_number_id) WHERE status = 'open' DO NOTHING;
    END LOOP;

    -- The profile name WhatsApp sent last is kept (rare: only when it changed).
    IF jsonb_path_exists(v_items, '$[*] ? (@.renamed == true)') THEN
      UPDATE contacts k SET profile_name = n.name, updated_at = now()
        FROM (SELECT DISTINCT ON (i."contactId") i."contactId" AS id, i."profileName" AS name
                FROM jsonb_to_recordset(v_items) AS i(ord int, "contactId" uuid, "profileName" text)
                WHERE i."profileName" IS NOT NULL ORDER BY i."contactId", i.ord DESC) n
        WHERE k.id = n.id AND k.profile_name IS DISTINCT FROM n.name;
    END IF;

    -- One statement stores the messages (a wamid seen before inserts nothing, so nothing else
    -- happens for it), moves each conversation forward once and writes the outbox.
    WITH items AS (
      SELECT * FROM jsonb_to_recordset(v_items) AS i(ord int, wamid text, "contactId" uuid, "conversationId" uuid,
                                                     "waTimestamp" timestamptz, type text, body text, content jsonb,
                                                     media jsonb, context jsonb, referral jsonb, errors jsonb, forwarded boolean)
    ), inserted AS (
      INSERT INTO messages (wamid, conversation_id, contact_id, direction, type, body, content, media, context,
                            referral, errors, forwarded, wa_timestamp, status, media_status)
        SELECT wamid, "conversationId", "contactId", 'inbound', type, body, content, media, context, referral, errors,
               COALESCE(forwarded, false), "waTimestamp", 'received',
               CASE WHEN media IS NULL OR jsonb_typeof(media) = 'null' THEN 'none' ELSE 'pending' END
          FROM items ORDER BY ord
        ON CONFLICT (wamid) DO NOTHING
        RETURNING id, wamid, conversation_id, wa_timestamp, media_status
    ), touched AS (
      UPDATE conversations c SET last_message_at = GREATEST(c.last_message_at, x.ts),
                                 last_inbound_at = GREATEST(c.last_inbound_at, x.ts), updated_at = now()
        FROM (SELECT conversation_id, max(wa_timestamp) AS ts FROM inserted GROUP BY 1) x
        WHERE c.id = ANY(v_conversations) AND c.id = x.conversation_id
    ), tasks AS (
      INSERT INTO outbox (queue, kind, dedupe_key, connection_id, conversation_id, message_id)
        SELECT 'crm-sync', 'message', 'sync:' || cn.id || ':' || n.id, cn.id, n.conversation_id, n.id
          FROM inserted n, connections cn WHERE cn.enabled
        UNION ALL
        SELECT 'media', 'fetch', 'media:' || n.id, NULL, n.conversation_id, n.id FROM inserted n WHERE n.media_status = 'pending'
      ON CONFLICT (dedupe_key) DO NOTHING
      RETURNING id, queue, next_attempt_at, message_id
    ), firsts AS (
      -- The same wamid twice in one batch: the first copy is the message, the second a duplicate.
      SELECT DISTINCT ON (wamid) ord, wamid FROM items ORDER BY wamid, ord
    )
    SELECT jsonb_agg(
             CASE WHEN n.id IS NULL THEN 'null'::jsonb ELSE jsonb_build_object('messageId', n.id, 'tasks',
               (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', t.id::text, 'queue', t.queue,
                         'dueAtMs', (EXTRACT(EPOCH FROM t.next_attempt_at) * 1000)::float8)), '[]'::jsonb)
                  FROM tasks t WHERE t.message_id = n.id)) END
             ORDER BY e.ord)
      INTO v_result
      FROM jsonb_array_elements(ms) WITH ORDINALITY AS e(value, ord)
      LEFT JOIN firsts f ON f.ord = e.ord
      LEFT JOIN inserted n ON n.wamid = f.wamid;
    RETURN COALESCE(v_result, '[]'::jsonb);
  END
  $$`;

const SINGLE_AS_BATCH = `
  CREATE OR REPLACE FUNCTION tb_ingest_inbound(m jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT NULLIF(tb_ingest_inbound_batch(jsonb_build_array(m))->0, 'null'::jsonb)
  $$`;

/** The per-message loop this migration replaces (1763900000000-IngestFunction). */
const LOOP_BATCH_FUNCTION = `
  CREATE OR REPLACE FUNCTION tb_ingest_inbound_batch(ms jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
  DECLARE
    results jsonb := '[]'::jsonb;
    m jsonb;
  BEGIN
    FOR m IN SELECT value FROM jsonb_array_elements(ms) LOOP
      results := results || jsonb_build_array(tb_ingest_inbound(m));
    END LOOP;
    RETURN results;
  END
  $$`;

export class IngestSetBased1764400000000 implements MigrationInterface {
  name = 'IngestSetBased1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(BATCH_FUNCTION);
    // A plpgsql function cannot become an SQL one in place.
    await q.query(`DROP FUNCTION tb_ingest_inbound(jsonb)`);
    await q.query(SINGLE_AS_BATCH);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION tb_ingest_inbound(jsonb)`);
    await q.query(ingestFunction(TOMBSTONE_CHECK));
    await q.query(LOOP_BATCH_FUNCTION);
  }
}
