// `opsync export --db FILE SESSION --format csv --out DIR`
#include <fmt/format.h>

#include "opsync/commands.h"
#include "opsync/csv_export.h"
#include "store/reader.h"

namespace opsync::cli {

void add_export_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "Write a session out as files (CSV per source, events, scans, summary)");
  auto db = std::make_shared<std::string>();
  auto session = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("csv");
  auto out = std::make_shared<std::string>();
  cmd->add_option("--db", *db, "Station database file")->required();
  cmd->add_option("session", *session, "Session name or id")->required();
  cmd->add_option("--format", *format, "Output format")->check(CLI::IsMember({"csv"}))->capture_default_str();
  cmd->add_option("--out", *out, "Output folder (created if missing)")->required();
  cmd->callback([db, session, format, out] {  // capturing keeps the option targets alive
    store::StoreReader reader(*db);
    const auto s = reader.find_session(*session);
    if (!s) throw std::runtime_error(fmt::format("no session '{}' in {} (see `opsync sessions --db {}`)", *session, *db, *db));
    if (*format != "csv") throw std::runtime_error(fmt::format("unknown export format '{}'", *format));
    for (const auto& f : export_session_csv(reader, *s, *out)) fmt::print("wrote {} ({} rows)\n", f.path.string(), f.rows);
  });
}

}  // namespace opsync::cli
