// Writes one ImportResult into the store in a single transaction: the session (created when
// missing; an existing one is left as it is), a source for the file with its clock model, its channels, samples, events, scans
// and a provenance row. Either all of it is committed or none.
#pragma once

#include <string>

#include "import/import_types.h"
#include "records/records.h"

namespace opsync::cli {

struct ImportTarget {
  std::string db_path;
  std::string session;
  std::string source;       // name of the source in the session (default: the file's name)
  std::string kind;         // cycler | ms | strain
  std::string file_path;    // provenance
  int64_t clock_offset_ns;  // what was subtracted from the file's times
};

struct ImportWritten {
  records::SessionId session_id = 0;
  records::SourceId source_id = 0;
  bool session_created = false;
  uint64_t samples = 0;
  uint64_t events = 0;
  uint64_t scans = 0;
};

// Throws store::StoreError (e.g. the source name exists in the session already).
ImportWritten write_import(const ImportTarget& target, const import::ImportResult& result, int64_t now_ns);

}  // namespace opsync::cli
