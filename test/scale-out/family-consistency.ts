import type pg from "pg";

export interface FamilyViolation {
  readonly problem: string;
  readonly id: string;
}

/**
 * Every way a session family could be left half-written, as one query (PostgreSQL). A rotation is
 * "consume the token + create its child + touch the session + audit" in one transaction, so after
 * any crash each of these must come back empty:
 * - every session has exactly one unconsumed token (its tip) and exactly one root;
 * - every consumed token has exactly one child and a sealed successor;
 * - no unconsumed token has a child (a successor whose parent was never consumed);
 * - every child's parent exists, in the same session;
 * - every rotation left exactly one audit event (`refresh_token.rotated`) per child token.
 */
const VIOLATIONS = `
  SELECT 'session_without_one_tip' AS problem, s.id FROM holdfast."Session" s
    LEFT JOIN holdfast."RefreshToken" t ON t."sessionId" = s.id AND t."consumedAt" IS NULL
    GROUP BY s.id HAVING count(t.id) <> 1
  UNION ALL
  SELECT 'session_without_one_root', s.id FROM holdfast."Session" s
    LEFT JOIN holdfast."RefreshToken" t ON t."sessionId" = s.id AND t."parentId" IS NULL
    GROUP BY s.id HAVING count(t.id) <> 1
  UNION ALL
  SELECT 'consumed_without_one_child', t.id FROM holdfast."RefreshToken" t
    LEFT JOIN holdfast."RefreshToken" c ON c."parentId" = t.id
    WHERE t."consumedAt" IS NOT NULL GROUP BY t.id HAVING count(c.id) <> 1
  UNION ALL
  SELECT 'consumed_without_sealed_successor', t.id FROM holdfast."RefreshToken" t
    WHERE t."consumedAt" IS NOT NULL AND t."sealedSuccessor" IS NULL
  UNION ALL
  SELECT 'unconsumed_with_child', t.id FROM holdfast."RefreshToken" t
    JOIN holdfast."RefreshToken" c ON c."parentId" = t.id WHERE t."consumedAt" IS NULL
  UNION ALL
  SELECT 'orphan_child', c.id FROM holdfast."RefreshToken" c
    LEFT JOIN holdfast."RefreshToken" p ON p.id = c."parentId"
    WHERE c."parentId" IS NOT NULL AND (p.id IS NULL OR p."sessionId" <> c."sessionId")
  UNION ALL
  SELECT 'rotations_without_one_audit_event', s.id FROM holdfast."Session" s
    WHERE (SELECT count(*) FROM holdfast."RefreshToken" t WHERE t."sessionId" = s.id AND t."parentId" IS NOT NULL)
       <> (SELECT count(*) FROM holdfast."AuditEvent" a WHERE a."sessionId" = s.id AND a.type = 'refresh_token.rotated')
`;

/** Runs on a pool, or on one client (inside a transaction of the caller's). */
export async function familyViolations(db: pg.Pool | pg.PoolClient): Promise<FamilyViolation[]> {
  const { rows } = await db.query<FamilyViolation>(VIOLATIONS);
  return rows;
}
