// BioLogic EC-Lab / BT-Lab text export (.mpt): header block with "Nb header lines : N" and an
// optional "Acquisition started on" (naive local time), then a tab-separated table whose numbers
// may use a decimal comma. See shared/formats/biologic-mpr-mpt.md section 9.
#include <charconv>

#include <fmt/format.h>

#include "import/common/cycler_table.h"
#include "import/common/date_text.h"
#include "import/common/delimited.h"
#include "import/readers.h"

namespace opsync::import {
namespace {

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

// The value after the first " : " (EC-Lab's key/value separator), or after the first ':'.
std::string_view header_value(std::string_view line) {
  size_t p = line.find(" : ");
  if (p != std::string_view::npos) return trim(line.substr(p + 3));
  p = line.find(':');
  return p == std::string_view::npos ? std::string_view() : trim(line.substr(p + 1));
}

}  // namespace

bool looks_like_biologic_mpt(const TextFile& file) {
  if (file.line_count() == 0) return false;
  const std::string_view first = trim(file.line(0));
  return starts_with_ci(first, "EC-Lab ASCII FILE") || starts_with_ci(first, "BT-Lab ASCII FILE");
}

ImportResult read_biologic_mpt(const FileInput& in, const ImportOptions& options, TimeContext& times) {
  const TextFile& file = *in.text;
  const std::string& path = file.path();
  if (options.kind != Kind::Cycler) {
    throw ImportError(path, 1, "",
                      "this is a BioLogic EC-Lab text file (potentiostat/cycler data); import it "
                      "as cycler, not as ms or strain");
  }
  if (file.line_count() < 2 || !starts_with_ci(trim(file.line(1)), "Nb header lines")) {
    throw ImportError(path, 2, "",
                      "an EC-Lab text file must say 'Nb header lines : N' on line 2; the file "
                      "looks truncated or edited");
  }
  const std::string_view count_text = header_value(file.line(1));
  size_t n_header = 0;
  const auto [ptr, ec] = std::from_chars(count_text.data(), count_text.data() + count_text.size(), n_header);
  if (ec != std::errc() || ptr != count_text.data() + count_text.size() || n_header < 3) {
    throw ImportError(path, 2, "",
                      fmt::format("'Nb header lines : {}' is not a usable line count", count_text));
  }
  if (n_header > file.line_count()) {
    throw ImportError(path, 2, "",
                      fmt::format("'Nb header lines : {}' but the file has only {} lines; it looks "
                                  "truncated",
                                  n_header, file.line_count()));
  }
  const size_t header_index = n_header - 1;  // N counts the column-name line itself

  CyclerRules rules;
  rules.format = "biologic-mpt";
  rules.derive_current_from_dq = true;
  rules.sign_note = "current sign: EC-Lab native (+ = oxidation at the working electrode), kept "
                    "as is: charge of a cathode half cell or full cell is positive";
  rules.notes.push_back(fmt::format("BioLogic EC-Lab text export: {} header lines, column names "
                                    "on line {}",
                                    n_header, n_header));
  for (size_t i = 2; i < header_index; ++i) {
    const std::string_view line = trim(file.line(i));
    if (!starts_with_ci(line, "Acquisition started on")) continue;
    const std::string_view value = header_value(line);
    if (times.start_override()) break;  // --start wins; no need to read it
    const auto parsed = parse_date_time_text(value);
    if (!parsed) {
      throw ImportError(path, i + 1, "",
                        fmt::format("cannot read the acquisition start '{}' (expected "
                                    "MM/DD/YYYY HH:MM:SS.fff); give the start with --start",
                                    value));
    }
    const AbsTime t = times.resolve(*parsed);
    rules.header_start = StartSource{t.utc_ns, t.naive,
                                     fmt::format("the file header 'Acquisition started on : {}' "
                                                 "(line {})",
                                                 value, i + 1)};
    break;
  }
  const TableSource table = make_table(file, header_index, '\t');
  return import_cycler_table(table, options, times, rules);
}

}  // namespace opsync::import
