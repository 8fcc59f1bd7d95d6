// import_file(): detects the format from the content (never the file name): the binary formats
// by their magic bytes first, then the text formats (the table in format.cpp), and hands the file to
// the matching reader.
#include <algorithm>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "import/common/mapped_file.h"
#include "import/common/text_file.h"
#include "import/common/time_context.h"
#include "import/format.h"
#include "import/import_types.h"

namespace opsync::import {

namespace {

ImportResult read_text(const std::string& path, std::shared_ptr<const MappedFile> map,
                       const ImportOptions& options, TimeContext& times) {
  const std::string_view bytes = map->bytes();
  TextFile file = read_text_file(path, std::move(map));
  std::optional<Damage> cut;
  if (file.last_line_cut()) {
    const size_t line_no = file.line_count();
    std::string shown(file.line(line_no - 1).substr(0, 60));
    cut = Damage{fmt::format("line {}", line_no),
                 fmt::format("the last line ('{}') has no line ending and is not shaped like the line "
                             "before it: the file was cut while being written or copied; if the line is "
                             "complete, end it with a line break",
                             shown),
                 1, std::nullopt};
    if (!options.salvage) throw ImportError(path, line_no, "", cut->what + ", or pass --salvage to leave it out");
    file.drop_last_line();
  }

  ImportResult result;
  for (const TextFormat& format : text_formats()) {
    if (const auto header = format.detect(file, options.kind)) {
      result = format.read(FileInput{path, bytes, &file, *header}, options, times);
      break;
    }
  }
  if (cut) {
    cut->t_ns = result.t_last_ns;
    result.damage.push_back(*cut);
  }
  if (file.encoding() != "utf-8") {
    result.assumptions.push_back(fmt::format("text encoding: {}{}", file.encoding(),
                                             file.encoding() == "cp1252"
                                                 ? " (not valid UTF-8; read as Windows latin-1)"
                                                 : ""));
  }
  return result;
}

}  // namespace

// Salvaging: the skipped rows become events where they were (or at the start of the data), so
// the record says what the file did not give. Refusing: one message naming every inconsistency.
void settle_damage(ImportResult& result, const ImportOptions& options, const std::string& path) {
  if (result.damage.empty()) return;
  size_t rows = 0;
  for (const Damage& d : result.damage) rows += d.rows;
  if (!options.salvage) {
    std::string list;
    const size_t shown = std::min<size_t>(result.damage.size(), 5);
    for (size_t i = 0; i < shown; ++i) {
      const Damage& d = result.damage[i];
      list += fmt::format("{}{}: {}{}", i ? "; " : "", d.where, d.what,
                          d.rows ? fmt::format(" ({} row(s))", d.rows) : std::string());
    }
    if (shown < result.damage.size()) list += fmt::format("; and {} more", result.damage.size() - shown);
    throw ImportError(path, 0, "",
                      fmt::format("the file is damaged: {}. {} row(s) affected, {} readable; nothing imported "
                                  "(--salvage imports the readable rows and records what was skipped)",
                                  list, rows, result.rows));
  }
  for (const Damage& d : result.damage) {
    result.events.push_back(EventData{d.t_ns.value_or(result.t_first_ns), "import_skipped",
                                      fmt::format("{}: {}{}; left out by --salvage", d.where, d.what,
                                                  d.rows ? fmt::format(" ({} row(s))", d.rows) : std::string())});
  }
  std::stable_sort(result.events.begin(), result.events.end(),
                   [](const EventData& a, const EventData& b) { return a.t_ns < b.t_ns; });
  result.assumptions.push_back(fmt::format("--salvage: the file is damaged at {} place(s); {} row(s) left out "
                                           "(each recorded as an 'import_skipped' event)",
                                           result.damage.size(), rows));
}

ImportResult import_file(const std::string& path, const ImportOptions& options) {
  TimeContext times(options, path);  // bad --tz / --start fail before any reading
  // Mapped, not read: memory does not grow with the file (FIFOs and devices are refused here).
  auto map = std::make_shared<const MappedFile>(path);
  const std::string_view bytes = map->bytes();
  const std::string_view head = bytes.substr(0, 64);
  const BinaryFormat* binary = nullptr;
  for (const BinaryFormat& format : binary_formats()) {
    if (format.detect(head)) {
      binary = &format;
      break;
    }
  }
  ImportResult result = binary ? binary->read(FileInput{path, bytes, nullptr, 0}, options, times)
                               : read_text(path, std::move(map), options, times);
  settle_damage(result, options, path);
  return result;
}

}  // namespace opsync::import
