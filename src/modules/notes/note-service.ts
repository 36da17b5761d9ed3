import {
  BadUserInputError,
  type Clock,
  type HoldfastDatabase,
  type ModuleEvents,
  NotFoundError,
  newId,
  type Page,
  pageArgs,
  toPage,
  withDatabase,
} from "../../index.js";
import { NOTES_TOPIC, type NoteEventModel } from "./note-events.js";
import type { NoteModel } from "./note-model.js";
import { createNoteStore, type NoteStore } from "./note-store.js";

export const MAX_TITLE_LENGTH = 200;
export const MAX_BODY_LENGTH = 20_000;

function checkText(value: string, field: "title" | "body", max: number): string {
  const text = field === "title" ? value.trim() : value;
  if (text.length > max || (field === "title" && text.length === 0)) {
    throw new BadUserInputError(
      `invalid_${field}`,
      `${field} must be ${field === "title" ? 1 : 0} to ${max} characters`,
      field,
    );
  }
  return text;
}

/**
 * Notes of the demo domain. Ownership is enforced here for writes (a write is an action, not a
 * field read); who may *read* which field is the permission map's job.
 */
export class NoteService {
  private readonly store: NoteStore;

  constructor(
    /** The database connection Holdfast shares; ensureNotesSchema must have run on it. */
    driver: HoldfastDatabase,
    private readonly clock: Clock,
    /** Where `noteEvents` subscriptions learn of writes; none in tools that only read. */
    private readonly events: Pick<ModuleEvents, "publish"> | null = null,
  ) {
    this.store = createNoteStore(driver);
  }

  private published(event: NoteEventModel): void {
    this.events?.publish(NOTES_TOPIC, event);
  }

  async findById(id: string): Promise<NoteModel | null> {
    return withDatabase(() => this.store.findById(id));
  }

  /** Newest first; all notes, or one owner's. */
  async list(
    first: number | null | undefined,
    after: string | null | undefined,
    ownerId?: string,
  ): Promise<Page<NoteModel>> {
    const args = pageArgs(first, after);
    const rows = await withDatabase(() => this.store.page(args.first + 1, args.after, ownerId || undefined));
    return toPage(rows, args.first);
  }

  async create(ownerId: string, input: { title: string; body: string }): Promise<NoteModel> {
    const now = this.clock.now();
    const note: NoteModel = {
      id: newId(now),
      ownerId,
      title: checkText(input.title, "title", MAX_TITLE_LENGTH),
      body: checkText(input.body, "body", MAX_BODY_LENGTH),
      createdAt: now,
    };
    await withDatabase(() => this.store.insert(note));
    this.published({ kind: "CREATED", noteId: note.id, note });
    return note;
  }

  async update(
    ownerId: string,
    id: string,
    input: { title?: string | null | undefined; body?: string | null | undefined },
  ): Promise<NoteModel> {
    const changes = {
      ...(input.title != null ? { title: checkText(input.title, "title", MAX_TITLE_LENGTH) } : {}),
      ...(input.body != null ? { body: checkText(input.body, "body", MAX_BODY_LENGTH) } : {}),
    };
    // One conditional statement: the owner check and the write cannot be separated by another request.
    const note = await withDatabase(() => this.store.update(ownerId, id, changes));
    if (!note) throw new NotFoundError("Note not found");
    this.published({ kind: "UPDATED", noteId: note.id, note });
    return note;
  }

  async delete(ownerId: string, id: string): Promise<boolean> {
    const deleted = await withDatabase(() => this.store.delete(ownerId, id));
    if (!deleted) throw new NotFoundError("Note not found");
    this.published({ kind: "DELETED", noteId: id, note: null });
    return true;
  }
}
