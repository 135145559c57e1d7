-- depot-postgres, migration 2: the dossiers' journals leave their records.
--
-- A record keeps its journal's last entry; the entries are rows of their own, appended in
-- the same statement as the record's write (a lost compare-and-swap writes neither), and
-- never updated. Records written before this migration still hold their whole journal:
-- their entries move here at the dossier's next write (ON CONFLICT DO NOTHING makes a
-- repeated move harmless).
CREATE TABLE journal (
    numero    text NOT NULL,
    position  bigint NOT NULL CHECK (position >= 0),
    empreinte text NOT NULL,
    entree    jsonb NOT NULL,
    PRIMARY KEY (numero, position, empreinte)
);
