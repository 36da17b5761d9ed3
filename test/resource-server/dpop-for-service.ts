// A DPoP key for the end-to-end test: proofs on the real clock for any method and URL.
import { createDpopKey, createDpopProof } from "../support/dpop-proof.js";

export async function boundHeaders() {
  const key = await createDpopKey();
  return {
    key,
    proof: (htm: string, htu: string, accessToken?: string) =>
      createDpopProof(key, { htm, htu, iat: new Date(), ...(accessToken ? { accessToken } : {}) }),
  };
}
