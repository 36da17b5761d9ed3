-- Holdfast's tables, apart from the application's (names prefixed holdfast_). This baseline replaces the migrations
-- 20261127151029_init and *_passkeys_step_up: a database that has those is moved over with its rows
-- by src/db/legacy-layout.ts and recorded as having this one.

-- CreateTable
CREATE TABLE "holdfast_User" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "email" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "displayName" TEXT NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'user',
    "createdAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "holdfast_SigningKey" (
    "kid" TEXT NOT NULL PRIMARY KEY,
    "alg" TEXT NOT NULL,
    "publicJwk" TEXT NOT NULL,
    "privateKey" TEXT NOT NULL,
    "encrypted" BOOLEAN NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "activatesAt" DATETIME NOT NULL,
    "retiredAt" DATETIME,
    "expiresAt" DATETIME
);

-- CreateTable
CREATE TABLE "holdfast_Session" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "scopes" TEXT NOT NULL,
    "jkt" TEXT,
    "userAgent" TEXT,
    "ip" TEXT,
    "createdAt" DATETIME NOT NULL,
    "lastUsedAt" DATETIME NOT NULL,
    "idleExpiresAt" DATETIME NOT NULL,
    "absoluteExpiresAt" DATETIME NOT NULL,
    "revokedAt" DATETIME,
    "revokedReason" TEXT,
    "authTime" DATETIME,
    "acr" TEXT NOT NULL DEFAULT 'pwd',
    "amr" TEXT NOT NULL DEFAULT 'pwd',
    CONSTRAINT "holdfast_Session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "holdfast_User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "holdfast_RefreshToken" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "sessionId" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "parentId" TEXT,
    "createdAt" DATETIME NOT NULL,
    "consumedAt" DATETIME,
    "sealedSuccessor" TEXT,
    CONSTRAINT "holdfast_RefreshToken_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "holdfast_Session" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "holdfast_AuditEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "type" TEXT NOT NULL,
    "userId" TEXT,
    "sessionId" TEXT,
    "ip" TEXT,
    "userAgent" TEXT,
    "detail" TEXT,
    "createdAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "holdfast_Passkey" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "userHandle" TEXT NOT NULL,
    "publicKey" TEXT NOT NULL,
    "counter" INTEGER NOT NULL,
    "transports" TEXT,
    "deviceType" TEXT NOT NULL,
    "backedUp" BOOLEAN NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "lastUsedAt" DATETIME,
    CONSTRAINT "holdfast_Passkey_userId_fkey" FOREIGN KEY ("userId") REFERENCES "holdfast_User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "holdfast_WebAuthnChallenge" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "purpose" TEXT NOT NULL,
    "userId" TEXT,
    "userHandle" TEXT,
    "createdAt" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "holdfast_User_email_key" ON "holdfast_User"("email");

-- CreateIndex
CREATE INDEX "holdfast_Session_userId_idx" ON "holdfast_Session"("userId");

-- CreateIndex
CREATE INDEX "holdfast_Session_revokedAt_idx" ON "holdfast_Session"("revokedAt");

-- CreateIndex
CREATE UNIQUE INDEX "holdfast_RefreshToken_tokenHash_key" ON "holdfast_RefreshToken"("tokenHash");

-- CreateIndex
CREATE UNIQUE INDEX "holdfast_RefreshToken_parentId_key" ON "holdfast_RefreshToken"("parentId");

-- CreateIndex
CREATE INDEX "holdfast_RefreshToken_sessionId_idx" ON "holdfast_RefreshToken"("sessionId");

-- CreateIndex
CREATE INDEX "holdfast_AuditEvent_userId_createdAt_idx" ON "holdfast_AuditEvent"("userId", "createdAt");

-- CreateIndex
CREATE INDEX "holdfast_AuditEvent_type_createdAt_idx" ON "holdfast_AuditEvent"("type", "createdAt");

-- CreateIndex
CREATE INDEX "holdfast_Passkey_userId_idx" ON "holdfast_Passkey"("userId");

-- CreateIndex
CREATE INDEX "holdfast_Passkey_userHandle_idx" ON "holdfast_Passkey"("userHandle");

-- CreateIndex
CREATE INDEX "holdfast_WebAuthnChallenge_expiresAt_idx" ON "holdfast_WebAuthnChallenge"("expiresAt");

