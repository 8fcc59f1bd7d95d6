// `opsync export --db FILE SESSION --format csv --out DIR`
// `opsync export --db FILE SESSION --format hdf5 --out FILE.h5`
#include <fmt/format.h>

#include "opsync/cli_error.h"
#include "opsync/commands.h"
#include "opsync/csv_export.h"
#include "opsync/hdf5_export.h"
#include "store/reader.h"

namespace opsync::cli {

void add_export_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("export",
                                 "Write a session out: CSV files (one per source, events, scans, summary) or one "
                                 "NeXus-style HDF5 file");
  auto db = std::make_shared<std::string>();
  auto session = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("csv");
  auto out = std::make_shared<std::string>();
  cmd->add_option("--db", *db, "Station database file")->required();
  cmd->add_option("session", *session, "Session name or id")->required();
  cmd->add_option("--format", *format, "Output format (hdf5 layout: docs/export.md)")
      ->check(CLI::IsMember({"csv", "hdf5"}))
      ->capture_default_str();
  cmd->add_option("--out", *out,
                  "csv: output folder (created if missing); hdf5: output file (written whole or not at all)")
      ->required();
  cmd->callback([db, session, format, out] {  // capturing keeps the option targets alive
    store::StoreReader reader(*db);
    const auto s = reader.find_session(*session);
    if (!s) throw CliError(fmt::format("no session '{}' in {} (see `opsync sessions --db {}`)", *session, *db, *db));
    if (*format == "csv") {
      for (const auto& f : export_session_csv(reader, *s, *out)) {
        fmt::print("wrote {} ({} rows)\n", f.path.string(), f.rows);
      }
    } else if (*format == "hdf5") {
      const Hdf5ExportStats st = export_session_hdf5(reader, *s, *out);
      fmt::print("wrote {} ({} bytes: {} sources, {} channels, {} samples, {} events, {} scans)\n", *out, st.bytes,
                 st.sources, st.channels, st.samples, st.events, st.scans);
    } else {
      throw CliError(fmt::format("unknown export format '{}'", *format));
    }
  });
}

}  // namespace opsync::cli
