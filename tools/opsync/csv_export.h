// CSV export of a session: one wide file per source (t_ns, time_utc, one column per channel
// named `name[unit]`), events.csv, scans.csv and session.json (the summary). Values are printed
// with 17 significant digits so a re-import gives back the same doubles; t_ns is exact.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "store/reader.h"

namespace opsync::cli {

struct ExportedFile {
  std::filesystem::path path;
  uint64_t rows = 0;
};

// Writes into `out_dir` (created if missing). Throws CliError on I/O errors.
std::vector<ExportedFile> export_session_csv(store::StoreReader& reader, const records::Session& session,
                                             const std::filesystem::path& out_dir);

// A file name made of the source name's safe characters.
std::string safe_file_name(const std::string& name);

}  // namespace opsync::cli
