import type { MutationResolvers } from "../generated/resolvers-types.js";

export const keyMutations: Pick<MutationResolvers, "rotateSigningKey"> = {
  rotateSigningKey: (_parent, _args, { services }) => services.keys.rotate(),
};
