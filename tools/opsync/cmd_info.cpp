// `opsync info --db FILE SESSION [--json]`: what a session holds.
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "opsync/cli_error.h"
#include "opsync/commands.h"
#include "opsync/session_report.h"
#include "store/proto_convert.h"
#include "store/reader.h"

namespace opsync::cli {

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Summarise one session: sources, clocks, channels, events, scans");
  auto db = std::make_shared<std::string>();
  auto session = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("--db", *db, "Station database file")->required();
  cmd->add_option("session", *session, "Session name or id")->required();
  cmd->add_flag("--json", *json, "Machine-readable output on stdout (the SessionSummary record as JSON)");
  cmd->callback([db, session, json] {
    store::StoreReader reader(*db);
    const auto s = reader.find_session(*session);
    if (!s) throw CliError(fmt::format("no session '{}' in {} (see `opsync sessions --db {}`)", *session, *db, *db));
    if (!*json) {
      fmt::print("{}", format_session_info(reader, *s));
      return;
    }
    std::string text;
    google::protobuf::util::JsonPrintOptions opt;
    opt.add_whitespace = true;
    opt.preserve_proto_field_names = true;
    opt.always_print_primitive_fields = true;
    if (!google::protobuf::util::MessageToJsonString(store::summarize(reader, *s), &text, opt).ok()) {
      throw CliError("could not render the summary as JSON");
    }
    fmt::print("{}", text);
  });
}

}  // namespace opsync::cli
