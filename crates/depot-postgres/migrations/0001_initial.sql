-- depot-postgres, migration 1: every table of depot.

-- One row per dossier: the record as JSON (the format depot-fs and depot-s3 write), its
-- version for compare-and-swap, and the staff's search index computed by depot-core
-- (IndexDossier) with the record — NULL until computed (no indexer given).
CREATE TABLE dossiers (
    numero           text PRIMARY KEY,
    version          bigint NOT NULL CHECK (version >= 1),
    enregistrement   jsonb NOT NULL,
    concours         text NOT NULL,
    voie             text,
    etat             text,
    limite           timestamptz,
    cloture_le       timestamptz,
    pieces_attendues boolean
);
CREATE INDEX dossiers_etat ON dossiers (etat, numero);
CREATE INDEX dossiers_voie ON dossiers (voie, numero);
CREATE INDEX dossiers_cloture ON dossiers (cloture_le);
CREATE INDEX dossiers_attendues ON dossiers (numero) WHERE pieces_attendues;

-- What the index was computed with (the concours' deadlines and pieces): another value
-- means the rows are indexed again at start.
CREATE TABLE index_meta (
    unique_ligne boolean PRIMARY KEY DEFAULT true CHECK (unique_ligne),
    empreinte    text NOT NULL
);

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
