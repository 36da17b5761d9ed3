export interface NoteModel {
  readonly id: string;
  readonly ownerId: string;
  readonly title: string;
  readonly body: string;
  readonly createdAt: Date;
}
