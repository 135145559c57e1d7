-- depot-postgres, migration 1: every table of depot.

-- One row per dossier: the record as JSON (the format depot-fs and depot-s3 write), its
-- version for compare-and-swap, and columns copied from it for the staff's search.
CREATE TABLE dossiers (
    numero         text PRIMARY KEY,
    version        bigint NOT NULL CHECK (version >= 1),
    enregistrement jsonb NOT NULL,
    concours       text NOT NULL,
    voie           text NOT NULL,
    etat           text NOT NULL,
    cloture_le     timestamptz,
    nom            text NOT NULL,
    cree_le        timestamptz NOT NULL
);
CREATE INDEX dossiers_concours_etat ON dossiers (concours, etat, numero);
CREATE INDEX dossiers_concours_voie ON dossiers (concours, voie, numero);
CREATE INDEX dossiers_cloture ON dossiers (concours, cloture_le);

-- Password hashes (PHC strings of argon2id).
CREATE TABLE identifiants (
    numero text PRIMARY KEY,
    phc    text NOT NULL
);

-- Sessions, by the SHA-256 of their token (never the token).
CREATE TABLE sessions (
    espece     text NOT NULL,
    empreinte  bytea NOT NULL,
    titulaire  text NOT NULL,
    creee      timestamptz NOT NULL,
    vue        timestamptz NOT NULL,
    csrf       text NOT NULL,
    PRIMARY KEY (espece, empreinte)
);
CREATE INDEX sessions_vue ON sessions (vue);

-- Throttling counts: the instants recorded under a key.
CREATE TABLE compteurs (
    cle      text PRIMARY KEY,
    instants timestamptz[] NOT NULL
);

-- The récépissé signing key's seed: one row, created once.
CREATE TABLE cle_signature (
    unique_ligne boolean PRIMARY KEY DEFAULT true CHECK (unique_ligne),
    graine       bytea NOT NULL CHECK (length(graine) = 32)
);

-- Every public key ever published, in order.
CREATE TABLE cles_publiees (
    rang bigserial PRIMARY KEY,
    id   text NOT NULL UNIQUE,
    cle  jsonb NOT NULL
);
