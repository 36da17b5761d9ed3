import type Sqlite from "better-sqlite3";
import type pg from "pg";
import { type HoldfastDatabase, ServiceUnavailableError } from "../../index.js";
import type { NoteModel } from "./note-model.js";
import { NOTES_TABLE } from "./notes-schema.js";

/**
 * The notes' SQL, on the connection Holdfast shares (the better-sqlite3 connection or the pg pool
 * Prisma also uses). Every write is one conditional statement, so an owner check and its write
 * cannot be separated by another request. Needs ensureNotesSchema to have run.
 */
export interface NoteStore {
  findById(id: string): Promise<NoteModel | null>;
  /** Newest first (ids are UUIDv7): `take` rows with ids below `before`, of one owner or all. */
  page(take: number, before: string | null, ownerId: string | undefined): Promise<NoteModel[]>;
  insert(note: NoteModel): Promise<void>;
  /** The updated note, or null when no note has this id and owner. */
  update(ownerId: string, id: string, changes: { title?: string; body?: string }): Promise<NoteModel | null>;
  /** False when no note has this id and owner. */
  delete(ownerId: string, id: string): Promise<boolean>;
}

export function createNoteStore(driver: HoldfastDatabase): NoteStore {
  return driver.provider === "sqlite" ? sqliteNoteStore(driver.connection) : postgresNoteStore(driver.pool);
}

const COLUMNS = "id, owner_id, title, body, created_at";

interface NoteRow {
  id: string;
  owner_id: string;
  title: string;
  body: string;
  created_at: string | Date;
}

function toNote(row: NoteRow): NoteModel {
  return {
    id: row.id,
    ownerId: row.owner_id,
    title: row.title,
    body: row.body,
    createdAt: new Date(row.created_at),
  };
}

/** How long a statement waits for a transaction someone else holds open on the shared connection. */
const SQLITE_WAIT_MS = 5000;

/**
 * Prisma keeps a transaction open across awaits on the one SQLite connection it shares; a
 * statement issued meanwhile would run inside it and commit or roll back with it. The statements
 * below are synchronous, so once this resolves nothing can interleave with them.
 */
async function outsideTransaction(connection: Sqlite.Database): Promise<void> {
  const deadline = Date.now() + SQLITE_WAIT_MS;
  while (connection.inTransaction) {
    if (Date.now() > deadline) throw new ServiceUnavailableError();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function sqliteNoteStore(db: Sqlite.Database): NoteStore {
  const byId = db.prepare(`SELECT ${COLUMNS} FROM ${NOTES_TABLE} WHERE id = ?`);
  const pages = {
    all: db.prepare(`SELECT ${COLUMNS} FROM ${NOTES_TABLE} ORDER BY id DESC LIMIT ?`),
    allBefore: db.prepare(`SELECT ${COLUMNS} FROM ${NOTES_TABLE} WHERE id < ? ORDER BY id DESC LIMIT ?`),
    owner: db.prepare(`SELECT ${COLUMNS} FROM ${NOTES_TABLE} WHERE owner_id = ? ORDER BY id DESC LIMIT ?`),
    ownerBefore: db.prepare(
      `SELECT ${COLUMNS} FROM ${NOTES_TABLE} WHERE owner_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
    ),
  };
  const insert = db.prepare(
    `INSERT INTO ${NOTES_TABLE} (${COLUMNS}) VALUES (@id, @ownerId, @title, @body, @createdAt)`,
  );
  const update = db.prepare(
    `UPDATE ${NOTES_TABLE} SET title = coalesce(?, title), body = coalesce(?, body)
     WHERE id = ? AND owner_id = ? RETURNING ${COLUMNS}`,
  );
  const remove = db.prepare(`DELETE FROM ${NOTES_TABLE} WHERE id = ? AND owner_id = ?`);
  return {
    async findById(id) {
      await outsideTransaction(db);
      const row = byId.get(id) as NoteRow | undefined;
      return row ? toNote(row) : null;
    },
    async page(take, before, ownerId) {
      await outsideTransaction(db);
      const rows =
        ownerId === undefined
          ? before === null
            ? pages.all.all(take)
            : pages.allBefore.all(before, take)
          : before === null
            ? pages.owner.all(ownerId, take)
            : pages.ownerBefore.all(ownerId, before, take);
      return (rows as NoteRow[]).map(toNote);
    },
    async insert(note) {
      await outsideTransaction(db);
      insert.run({ ...note, createdAt: note.createdAt.toISOString() });
    },
    async update(ownerId, id, changes) {
      await outsideTransaction(db);
      const row = update.get(changes.title ?? null, changes.body ?? null, id, ownerId) as NoteRow | undefined;
      return row ? toNote(row) : null;
    },
    async delete(ownerId, id) {
      await outsideTransaction(db);
      return remove.run(id, ownerId).changes > 0;
    },
  };
}

function postgresNoteStore(pool: pg.Pool): NoteStore {
  const rows = async (text: string, values: unknown[]) => (await pool.query<NoteRow>(text, values)).rows;
  return {
    async findById(id) {
      const [row] = await rows(`SELECT ${COLUMNS} FROM ${NOTES_TABLE} WHERE id = $1`, [id]);
      return row ? toNote(row) : null;
    },
    async page(take, before, ownerId) {
      // NULL parameters switch a condition off: one statement for the four cases.
      const found = await rows(
        `SELECT ${COLUMNS} FROM ${NOTES_TABLE}
         WHERE ($1::text IS NULL OR owner_id = $1) AND ($2::text IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3`,
        [ownerId ?? null, before, take],
      );
      return found.map(toNote);
    },
    async insert(note) {
      await pool.query(`INSERT INTO ${NOTES_TABLE} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5)`, [
        note.id,
        note.ownerId,
        note.title,
        note.body,
        note.createdAt,
      ]);
    },
    async update(ownerId, id, changes) {
      const [row] = await rows(
        `UPDATE ${NOTES_TABLE} SET title = coalesce($1, title), body = coalesce($2, body)
         WHERE id = $3 AND owner_id = $4 RETURNING ${COLUMNS}`,
        [changes.title ?? null, changes.body ?? null, id, ownerId],
      );
      return row ? toNote(row) : null;
    },
    async delete(ownerId, id) {
      const { rowCount } = await pool.query(`DELETE FROM ${NOTES_TABLE} WHERE id = $1 AND owner_id = $2`, [
        id,
        ownerId,
      ]);
      return (rowCount ?? 0) > 0;
    },
  };
}
