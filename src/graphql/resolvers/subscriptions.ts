import { NOTES_TOPIC, type NoteEventPayload, reviveNoteEvent } from "../../notes/note-events.js";
import type { SubscriptionResolvers } from "../generated/resolvers-types.js";

export const noteSubscriptions: Pick<SubscriptionResolvers, "noteEvents"> = {
  noteEvents: {
    // Authorized twice by the same rule (permissions.ts): when the stream starts, and for every
    // event with the viewer the connection holds at delivery (subscription-execution.ts).
    // Over HTTP, context.events.subscribe answers BAD_USER_INPUT websocket_required.
    subscribe: (_parent, _args, context) => context.events.subscribe<NoteEventPayload>(NOTES_TOPIC),
    resolve: (event: NoteEventPayload) => reviveNoteEvent(event),
  },
};
