// The store's schema as an ordered list of migrations; PRAGMA user_version holds the version a
// file is at. Opening a file applies the missing migrations in one transaction each; a file from
// a newer opsync is refused rather than guessed at. docs/schema.md describes the tables.
#pragma once

#include <cstdint>
#include <string_view>

#include "store/sqlite_db.h"

namespace opsync::store {

inline constexpr int kSchemaVersion = 6;

// Connection settings every opsync connection uses (WAL, foreign keys, page size for new files).
void configure_connection(Db& db, bool writer);

// Brings the file to `target` (default: current). Returns the version the file was at before.
int migrate(Db& db, int target = kSchemaVersion);

int schema_version(Db& db);

}  // namespace opsync::store
