import { BadUserInputError } from "../../errors/app-error.js";
import type { NoteEventModel } from "../../notes/note-events.js";
import type { SubscriptionResolvers } from "../generated/resolvers-types.js";

export const noteSubscriptions: Pick<SubscriptionResolvers, "noteEvents"> = {
  noteEvents: {
    // Authorized twice by the same rule (permissions.ts): when the stream starts, and for every
    // event with the viewer the connection holds at delivery (subscription-execution.ts).
    subscribe: (_parent, _args, context) => {
      if (!context.live)
        throw new BadUserInputError("websocket_required", "Subscriptions are served over WebSocket");
      return context.live.noteEvents();
    },
    resolve: (event: NoteEventModel) => event,
  },
};
