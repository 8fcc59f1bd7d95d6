// Migrations of the session store. Each entry moves the file one version up; never edit a
// released migration, add a new one.
#include "store/schema.h"

#include <fmt/format.h>

namespace opsync::store {
namespace {

// Version 1: sessions, sources, channels, samples, events, scans.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE sessions (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  started_ns  INTEGER NOT NULL,
  ended_ns    INTEGER,
  host        TEXT NOT NULL DEFAULT '',
  note        TEXT NOT NULL DEFAULT ''
);
CREATE TABLE sources (
  id          INTEGER PRIMARY KEY,
  session_id  INTEGER NOT NULL REFERENCES sessions(id),
  name        TEXT NOT NULL,
  kind        TEXT NOT NULL,
  address     TEXT NOT NULL DEFAULT '',
  note        TEXT NOT NULL DEFAULT '',
  UNIQUE (session_id, name)
);
CREATE TABLE channels (
  id          INTEGER PRIMARY KEY,
  source_id   INTEGER NOT NULL REFERENCES sources(id),
  name        TEXT NOT NULL,
  unit        TEXT NOT NULL DEFAULT '',
  quantity    TEXT NOT NULL DEFAULT '',
  UNIQUE (source_id, name)
);
-- One row per sample, clustered by channel then time: a time-range read of one channel is one
-- contiguous b-tree range. seq is the arrival order within the channel, so two samples with
-- the same timestamp are both kept, in the order they came.
CREATE TABLE samples (
  channel_id  INTEGER NOT NULL,
  t_ns        INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  value       REAL,
  PRIMARY KEY (channel_id, t_ns, seq)
) WITHOUT ROWID;
CREATE TABLE events (
  id          INTEGER PRIMARY KEY,
  session_id  INTEGER NOT NULL REFERENCES sessions(id),
  source_id   INTEGER REFERENCES sources(id),
  t_ns        INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_by_time ON events (session_id, t_ns);
CREATE TABLE scans (
  id          INTEGER PRIMARY KEY,
  session_id  INTEGER NOT NULL REFERENCES sessions(id),
  source_id   INTEGER REFERENCES sources(id),
  number      INTEGER NOT NULL,
  start_ns    INTEGER NOT NULL,
  end_ns      INTEGER NOT NULL,
  label       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX scans_by_time ON scans (session_id, start_ns);
CREATE TABLE scan_values (
  scan_id     INTEGER NOT NULL REFERENCES scans(id),
  name        TEXT NOT NULL,
  unit        TEXT NOT NULL DEFAULT '',
  value       REAL,
  PRIMARY KEY (scan_id, name)
);
)sql";

// Version 2: per-source clock models (history of fits) and raw byte captures for replay.
constexpr std::string_view kV2 = R"sql(
CREATE TABLE clock_models (
  source_id        INTEGER NOT NULL REFERENCES sources(id),
  fitted_at_ns     INTEGER NOT NULL,
  method           TEXT NOT NULL,
  offset_ns        INTEGER NOT NULL,
  rate             REAL NOT NULL,
  residual_rms_ns  REAL NOT NULL DEFAULT 0,
  residual_max_ns  REAL NOT NULL DEFAULT 0,
  n_points         INTEGER NOT NULL DEFAULT 0,
  uncertainty_ns   REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (source_id, fitted_at_ns)
);
CREATE TABLE captures (
  id          INTEGER PRIMARY KEY,
  source_id   INTEGER NOT NULL REFERENCES sources(id),
  t_ns        INTEGER NOT NULL,
  direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  bytes       BLOB NOT NULL
);
CREATE INDEX captures_by_time ON captures (source_id, t_ns);
)sql";

// Version 3: provenance of imported files.
constexpr std::string_view kV3 = R"sql(
CREATE TABLE imports (
  id           INTEGER PRIMARY KEY,
  source_id    INTEGER NOT NULL REFERENCES sources(id),
  path         TEXT NOT NULL,
  format       TEXT NOT NULL,
  rows         INTEGER NOT NULL,
  assumptions  TEXT NOT NULL DEFAULT '',
  imported_ns  INTEGER NOT NULL
);
)sql";

// Version 4: captures also record the driver's timer ticks that sent nothing (direction 'tick',
// no bytes), so that a replay calls on_tick at the times the live run did (docs/replay.md).
// SQLite cannot widen a CHECK in place: the table is rebuilt, keeping every row and id.
constexpr std::string_view kV4 = R"sql(
CREATE TABLE captures_v4 (
  id          INTEGER PRIMARY KEY,
  source_id   INTEGER NOT NULL REFERENCES sources(id),
  t_ns        INTEGER NOT NULL,
  direction   TEXT NOT NULL CHECK (direction IN ('in', 'out', 'tick')),
  bytes       BLOB NOT NULL
);
INSERT INTO captures_v4 (id, source_id, t_ns, direction, bytes)
  SELECT id, source_id, t_ns, direction, bytes FROM captures ORDER BY id;
DROP TABLE captures;
ALTER TABLE captures_v4 RENAME TO captures;
CREATE INDEX captures_by_time ON captures (source_id, t_ns);
)sql";

// Version 5: a source's transport delay (station.toml transport_delay_s: the time the measured
// medium takes to reach the instrument, a DEMS capillary) becomes a typed column. Until v4 it was
// the text "transport_delay_s=30" in sources.note (pairs separated by "; "); the value moves to
// the column and the pair leaves the note.
constexpr std::string_view kV5 = R"sql(
ALTER TABLE sources ADD COLUMN transport_delay_s REAL NOT NULL DEFAULT 0;
UPDATE sources
   SET transport_delay_s = CAST(substr(note, 19) AS REAL),
       note = CASE WHEN instr(note, '; ') > 0 THEN substr(note, instr(note, '; ') + 2) ELSE '' END
 WHERE note LIKE 'transport_delay_s=%';
)sql";

// Version 6: mass-spectrometer calibrations (opsync calibrate): a sensitivity per m/z with how it
// was obtained, so that onsets and reports give mol/s, moles and electrons per molecule.
constexpr std::string_view kV6 = R"sql(
CREATE TABLE gas_calibrations (
  id                      INTEGER PRIMARY KEY,
  source_id               INTEGER NOT NULL REFERENCES sources(id),
  mass                    INTEGER NOT NULL,
  gas                     TEXT NOT NULL DEFAULT '',
  sensitivity_a_per_mol_s REAL NOT NULL,
  sigma_a_per_mol_s       REAL NOT NULL DEFAULT 0,
  method                  TEXT NOT NULL,
  from_ns                 INTEGER NOT NULL,
  to_ns                   INTEGER NOT NULL,
  detail                  TEXT NOT NULL DEFAULT '',
  created_ns              INTEGER NOT NULL
);
CREATE INDEX gas_calibrations_by_source ON gas_calibrations (source_id, mass);
)sql";

constexpr std::string_view kMigrations[] = {kV1, kV2, kV3, kV4, kV5, kV6};
static_assert(std::size(kMigrations) == kSchemaVersion);

}  // namespace

void configure_connection(Db& db, bool writer) {
  if (writer) {
    // Page size only takes effect on a new file (before the first table exists).
    db.exec("PRAGMA page_size = 16384");
    db.exec("PRAGMA journal_mode = WAL");
    // FULL: each commit's WAL frames are fsynced, so a power cut loses at most the batch
    // being committed. Batching keeps this to ~10 fsyncs/s.
    db.exec("PRAGMA synchronous = FULL");
  }
  db.exec("PRAGMA foreign_keys = ON");
  // The writer appends at the right edge of each b-tree: a small cache serves it, and keeps a
  // daemon that records for days small. Readers scan: give them more.
  db.exec(writer ? "PRAGMA cache_size = -8192" : "PRAGMA cache_size = -65536");  // 8 / 64 MiB
}

int schema_version(Db& db) { return static_cast<int>(db.query_int("PRAGMA user_version")); }

int migrate(Db& db, int target) {
  const int before = schema_version(db);
  if (before > kSchemaVersion) {
    throw StoreError(fmt::format("{}: database schema version {} is newer than this opsync understands ({}); "
                                 "use a newer opsync to open it",
                                 db.path(), before, kSchemaVersion));
  }
  for (int v = before; v < target; ++v) {
    Transaction tx(db);
    db.exec(kMigrations[v]);
    db.exec(fmt::format("PRAGMA user_version = {}", v + 1));
    tx.commit();
  }
  return before;
}

}  // namespace opsync::store
