// `opsync sessions --db FILE [--json]`: list the sessions in a station file.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "opsync/commands.h"
#include "opsync/session_report.h"
#include "store/reader.h"

namespace opsync::cli {

void add_sessions_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("sessions", "List the sessions in a database");
  auto db = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("--db", *db, "Station database file")->required();
  cmd->add_flag("--json", *json, "Machine-readable output on stdout");
  cmd->callback([db, json] {
    store::StoreReader reader(*db);
    if (!*json) {
      fmt::print("{}", format_sessions_table(reader));
      return;
    }
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : reader.sessions()) {
      out.push_back({{"id", s.id},
                     {"name", s.name},
                     {"started_ns", s.started_ns},
                     {"ended_ns", s.ended_ns ? nlohmann::json(s.ended_ns) : nlohmann::json(nullptr)},
                     {"n_sources", reader.sources(s.id).size()}});
    }
    fmt::print("{}\n", out.dump(2));
  });
}

}  // namespace opsync::cli
