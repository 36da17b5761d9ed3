import { randomUUID } from "node:crypto";
import type { HoldfastDatabase } from "holdfast";
import type { Project } from "./projects.js";

/**
 * The module's own data layer on Holdfast's connection: the better-sqlite3 database of the embedded
 * default, or the pg pool when DATABASE_URL is PostgreSQL. Holdfast's tables live apart (a
 * `holdfast` schema, or a `holdfast_` prefix), so `projects` cannot collide with them.
 */
export interface ProjectStore {
  createTable(): Promise<void>;
  insert(project: Omit<Project, "id">): Promise<Project>;
  byId(id: string): Promise<Project | null>;
  ownedBy(ownerId: string): Promise<Project[]>;
  all(): Promise<Project[]>;
  delete(id: string): Promise<void>;
}

const stores = new WeakMap<object, ProjectStore>();

export function projectStore(database: HoldfastDatabase): ProjectStore {
  const handle = database.provider === "sqlite" ? database.connection : database.pool;
  let store = stores.get(handle);
  if (!store) {
    store = database.provider === "sqlite" ? sqliteStore(database.connection) : postgresStore(database.pool);
    stores.set(handle, store);
  }
  return store;
}

const COLUMNS = `id, name, owner_id AS "ownerId", budget`;

function sqliteStore(db: Extract<HoldfastDatabase, { provider: "sqlite" }>["connection"]): ProjectStore {
  // The shared connection reads INTEGER columns as BigInt (Prisma's adapter turns safe integers
  // on): this module's integers are small, so its statements read plain numbers.
  const query = (sql: string) => db.prepare(sql).safeIntegers(false);
  return {
    async createTable() {
      db.exec(`CREATE TABLE IF NOT EXISTS projects (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, owner_id TEXT NOT NULL, budget INTEGER NOT NULL)`);
    },
    async insert(project) {
      const row = { id: randomUUID(), ...project };
      db.prepare("INSERT INTO projects (id, name, owner_id, budget) VALUES (?, ?, ?, ?)").run(
        row.id,
        row.name,
        row.ownerId,
        row.budget,
      );
      return row;
    },
    async byId(id) {
      return (query(`SELECT ${COLUMNS} FROM projects WHERE id = ?`).get(id) as Project | undefined) ?? null;
    },
    async ownedBy(ownerId) {
      return query(`SELECT ${COLUMNS} FROM projects WHERE owner_id = ? ORDER BY name`).all(
        ownerId,
      ) as Project[];
    },
    async all() {
      return query(`SELECT ${COLUMNS} FROM projects ORDER BY name`).all() as Project[];
    },
    async delete(id) {
      db.prepare("DELETE FROM projects WHERE id = ?").run(id);
    },
  };
}

function postgresStore(pool: Extract<HoldfastDatabase, { provider: "postgres" }>["pool"]): ProjectStore {
  const rows = async (sql: string, values: unknown[] = []) =>
    (await pool.query(sql, values)).rows as Project[];
  return {
    async createTable() {
      await pool.query(`CREATE TABLE IF NOT EXISTS projects (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, owner_id TEXT NOT NULL, budget INTEGER NOT NULL)`);
    },
    async insert(project) {
      const row = { id: randomUUID(), ...project };
      await pool.query("INSERT INTO projects (id, name, owner_id, budget) VALUES ($1, $2, $3, $4)", [
        row.id,
        row.name,
        row.ownerId,
        row.budget,
      ]);
      return row;
    },
    async byId(id) {
      return (await rows(`SELECT ${COLUMNS} FROM projects WHERE id = $1`, [id]))[0] ?? null;
    },
    ownedBy: (ownerId) =>
      rows(`SELECT ${COLUMNS} FROM projects WHERE owner_id = $1 ORDER BY name`, [ownerId]),
    all: () => rows(`SELECT ${COLUMNS} FROM projects ORDER BY name`),
    async delete(id) {
      await pool.query("DELETE FROM projects WHERE id = $1", [id]);
    },
  };
}
