/**
 * The ingest rules, in the one place they are written: tb_ingest_inbound_batch stores a batch of
 * customer messages — contact (by wa_id), open conversation (closed ones stay closed), message
 * (unique wamid, tombstones of erased messages respected), and the outbox rows that fan it out
 * to media and to every enabled connection — in a few set-based statements, locks taken in key
 * order so concurrent batches never deadlock. It is SQL rather than TypeScript because one
 * round trip per batch is why ingest runs near the bare INSERT baseline (npm run bench:ingest).
 *
 * Its crm-sync rows (`FROM inserted n, connections cn WHERE cn.enabled`) apply the one fan-out rule,
 * tasks/fan-out-rule.ts, written out here because this text is what the database runs;
 * ingest.functions.spec.ts fails if they differ.
 *
 * The database runs what the migrations deployed; ingest.functions.int-spec.ts checks that is
 * exactly this text. A change here ships with a new migration that runs it again (as
 * 1764700000000-IngestFunctionSource does); the migrations before it keep the versions of their day.
 */
export const INGEST_BATCH_FUNCTION = `
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

/** One message (used where statuses share the transaction): a batch of one, so the rules exist once. */
export const INGEST_ONE_FUNCTION = `
  CREATE OR REPLACE FUNCTION tb_ingest_inbound(m jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT NULLIF(tb_ingest_inbound_batch(jsonb_build_array(m))->0, 'null'::jsonb)
  $$`;
