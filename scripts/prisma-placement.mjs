// Where Holdfast's tables live, shared by every script that derives a Prisma schema from
// prisma/models.prisma: apart from the application's tables on the same database, in the
// PostgreSQL schema `holdfast`, and on SQLite (one namespace per file) under names prefixed `holdfast_`.

/** Extra datasource lines for the provider ("sqlite" or "postgres"). */
export function datasourcePlacement(provider) {
  return provider === "postgres" ? '\n  schemas  = ["holdfast"]' : "";
}

/** The models with the provider's placement attribute as the last line of every model block. */
export function placeModels(models, provider) {
  const attribute = (name) =>
    provider === "postgres" ? '@@schema("holdfast")' : `@@map("holdfast_${name}")`;
  return models.replace(
    /^model (\w+) \{\n([\s\S]*?)^\}/gm,
    (_block, name, body) => `model ${name} {\n${body}\n  ${attribute(name)}\n}`,
  );
}
