import { describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

/**
 * Each table has one owning folder of src/ (DESIGN.md §3): only its code writes the table; another
 * folder that must change those rows calls the owner and passes its transaction. This reads the SQL
 * of src/'s production code (the migrations, the schema's history, and the tests are left out) and
 * checks every table is written from one folder, the one declared below.
 *
 * SQL here is the text of string and template literals, with its keywords in capitals as this code
 * writes them: comments and prose ("the UPDATE decides") do not count. TypeORM repository calls
 * (save, insert, upsert) are not SQL text and are not seen.
 */

const ROOT = process.cwd();

/** The one folder of src/ that writes each table. */
const OWNERS: Record<string, string> = {
  agent_replies: 'replies',
  api_keys: 'admin',
  audit_log: 'admin',
  connections: 'connections',
  conversation_service: 'service-policy',
  console_sessions: 'console',
  consent_events: 'consent',
  contacts: 'contacts',
  conversations: 'conversations',
  erased_messages: 'privacy',
  erasure_receipts: 'privacy',
  erasure_requests: 'privacy',
  message_status_events: 'conversations',
  message_templates: 'replies',
  messages: 'conversations',
  outbound_refusals: 'whatsapp',
  outbox: 'tasks',
  quarantine: 'whatsapp',
  remote_links: 'sync',
  retention_stats: 'privacy',
  service_policies: 'service-policy',
  sync_attempts: 'sync',
  sync_leases: 'sync',
};

interface Exception {
  file: string;
  tables: string[];
  why: string;
}

/** Writes allowed outside a table's owner. Each says why; a new one needs a reason as good. */
const EXCEPTIONS: Exception[] = [
  {
    file: 'src/whatsapp/ingest.functions.ts',
    tables: ['contacts', 'conversations', 'messages', 'outbox'],
    // One set-based statement per batch of customer messages (contact, conversation, message and
    // their tasks) is why ingest runs near the bare INSERT baseline (npm run bench:ingest); split
    // into each owner's statements it would take a round trip per table.
    why: 'the ingest function: one round trip per batch',
  },
];

interface SourceFile {
  /** Relative to the checkout, with forward slashes: src/<folder>/… */
  file: string;
  text: string;
}

interface Write {
  table: string;
  file: string;
  line: number;
}

/**
 * INSERT INTO / UPDATE / DELETE FROM <table>. Not `DO UPDATE` (an upsert's conflict arm, on the
 * table it inserts into) nor `FOR [NO KEY] UPDATE` (a row lock).
 */
const WRITE = /(?<!\b(?:DO|FOR|KEY)\s+)\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(?:ONLY\s+)?(?:public\.)?"?([a-z_][a-z0-9_]*)"?/g;

/** The tables a file writes, with the line of each write. */
function writesIn({ file, text }: SourceFile): Write[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const writes: Write[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateLiteralToken(node)) {
      const start = node.getStart(source);
      for (const match of node.text.matchAll(WRITE)) {
        const line = source.getLineAndCharacterOfPosition(start).line + 1 + (node.text.slice(0, match.index).match(/\n/g)?.length ?? 0);
        writes.push({ table: match[1], file, line });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return writes;
}

/** src/<folder>/… → <folder>; a file directly in src/ is the composition root. */
function folderOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? parts[1] : '(root)';
}

function isExcepted(write: Write, exceptions: Exception[]): boolean {
  return exceptions.some((e) => e.file === write.file && e.tables.includes(write.table));
}

/** What breaks the rule: a table written from two folders, or from one that is not its declared owner. */
function ownershipProblems(files: SourceFile[], owners: Record<string, string>, exceptions: Exception[]): string[] {
  const byTable = new Map<string, Write[]>();
  for (const write of files.flatMap(writesIn)) {
    if (isExcepted(write, exceptions)) continue;
    byTable.set(write.table, [...(byTable.get(write.table) ?? []), write]);
  }
  const problems: string[] = [];
  for (const [table, writes] of [...byTable].sort(([a], [b]) => a.localeCompare(b))) {
    const folders = [...new Set(writes.map((w) => folderOf(w.file)))].sort();
    const where = writes.map((w) => `${w.file}:${w.line}`).join(', ');
    if (folders.length > 1) problems.push(`${table} is written from ${folders.length} folders (${folders.join(', ')}): ${where}`);
    else if (owners[table] !== folders[0]) problems.push(`${table} is written from ${folders[0]}/ but its declared owner is ${owners[table] ?? 'none'}: ${where}`);
  }
  for (const table of Object.keys(owners)) if (!byTable.has(table)) problems.push(`${table} has a declared owner but nothing writes it`);
  return problems;
}

/** src/'s production code: no tests, no migrations. */
function productionFiles(dir = path.join(ROOT, 'src')): SourceFile[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    const file = path.relative(ROOT, full).split(path.sep).join('/');
    if (entry.isDirectory()) return file === 'src/migrations' ? [] : productionFiles(full);
    if (!entry.name.endsWith('.ts') || /\.(spec|int-spec|e2e-spec)\.ts$|\.d\.ts$/.test(entry.name)) return [];
    return [{ file, text: fs.readFileSync(full, 'utf8') }];
  });
}

describe('the owners of the tables (each table is written from one folder of src/)', () => {
  const files = productionFiles();

  it('hold for the code as it is', () => {
    expect(ownershipProblems(files, OWNERS, EXCEPTIONS)).toEqual([]);
  });

  it('see the writes of the ingest function, and every exception is still needed', () => {
    for (const exception of EXCEPTIONS) {
      const written = files.filter((f) => f.file === exception.file).flatMap(writesIn).map((w) => w.table);
      expect([...new Set(written)].sort()).toEqual([...exception.tables].sort());
    }
  });

  describe('over a synthetic src/', () => {
    const owners = { messages: 'conversations', outbox: 'tasks' };
    const ownWrites: SourceFile[] = [
      { file: 'src/conversations/messages.repository.ts', text: 'export const q = `UPDATE messages SET status = $2 WHERE id = $1`;\n' },
      { file: 'src/tasks/outbox.repository.ts', text: "export const q = 'INSERT INTO outbox (queue) VALUES ($1) ON CONFLICT (dedupe_key) DO UPDATE SET queue = $1';\n" },
    ];

    it('accept each table written by its owner', () => {
      expect(ownershipProblems(ownWrites, owners, [])).toEqual([]);
    });

    it('refuse a write from a second folder', () => {
      const second = { file: 'src/whatsapp/outbound.repository.ts', text: 'const q = () => `\n  DELETE FROM messages WHERE id = ${1}`;\n' };
      expect(ownershipProblems([...ownWrites, second], owners, [])).toEqual([
        'messages is written from 2 folders (conversations, whatsapp): src/conversations/messages.repository.ts:1, src/whatsapp/outbound.repository.ts:2',
      ]);
    });

    it('refuse a table written only from a folder that is not its owner', () => {
      const moved = [ownWrites[0], { file: 'src/sync/sync.repository.ts', text: "const q = 'UPDATE outbox SET status = $1';\n" }];
      expect(ownershipProblems(moved, owners, [])).toEqual(['outbox is written from sync/ but its declared owner is tasks: src/sync/sync.repository.ts:1']);
    });

    it('let an exception write only the tables it names', () => {
      const ingest = { file: 'src/whatsapp/ingest.ts', text: 'const q = `INSERT INTO messages (id) SELECT 1; INSERT INTO outbox (queue) SELECT 1`;\n' };
      const exception = { file: 'src/whatsapp/ingest.ts', tables: ['messages'], why: 'test' };
      expect(ownershipProblems([...ownWrites, ingest], owners, [exception])).toEqual([
        'outbox is written from 2 folders (tasks, whatsapp): src/tasks/outbox.repository.ts:1, src/whatsapp/ingest.ts:1',
      ]);
    });

    it('read SQL only: not comments, row locks or prose', () => {
      const reads = {
        file: 'src/whatsapp/reads.ts',
        text: [
          '// the UPDATE decides; INSERT INTO outbox happens elsewhere',
          "const q = 'SELECT id FROM messages WHERE id = $1 FOR UPDATE SKIP LOCKED';",
          "const r = 'SELECT id FROM conversations FOR NO KEY UPDATE';",
          "const s = 'Update messages later';",
        ].join('\n'),
      };
      expect(ownershipProblems([...ownWrites, reads], owners, [])).toEqual([]);
    });
  });
});
