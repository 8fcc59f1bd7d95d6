// Maccor text exports (.txt, numbered extensions such as .052, CSV): preamble lines, then a
// column-name line starting with "Rec#"/"Rec", then one row per record. Current is signed from
// State; Amp-hr/Watt-hr restart at every step. See shared/formats/maccor-text.md.
#include <algorithm>

#include <fmt/format.h>

#include "import/common/cycler_table.h"
#include "import/common/delimited.h"
#include "import/readers.h"

namespace opsync::import {

std::optional<size_t> find_maccor_header(const TextFile& file) {
  std::vector<std::string_view> fields;
  const size_t limit = std::min<size_t>(file.line_count(), 40);  // variant C has 13 preamble lines
  for (size_t i = 0; i < limit; ++i) {
    const std::string_view line = file.line(i);
    split_fields(line, detect_delimiter(line), fields);
    if (fields.size() < 3) continue;
    const std::string_view first = trim(fields[0]);
    if (first == "Rec#" || first == "Rec") return i;
  }
  return std::nullopt;
}

ImportResult read_maccor_text(const FileInput& in, const ImportOptions& options, TimeContext& times) {
  const TextFile& file = *in.text;
  const size_t header_index = in.header_index;
  if (options.kind != Kind::Cycler) {
    throw ImportError(file.path(), header_index + 1, "",
                      "this is a Maccor cycler export; import it as cycler, not as ms or strain");
  }
  const char delimiter = detect_delimiter(file.line(header_index));
  CyclerRules rules;
  rules.format = "maccor-text";
  rules.sign_from_state = true;
  rules.notes.push_back(fmt::format("Maccor text export: {} preamble line(s), column names on line {}",
                                    header_index, header_index + 1));
  rules.capacity_note =
      "Maccor Amp-hr (and Watt-hr) restart at 0 at every step: imported as the per-step "
      "'capacity' (and 'energy') channel, not cumulative (a CC-CV charge shows two counters)";
  TableSource table = make_table(file, header_index, delimiter);
  return import_cycler_table(table, options, times, rules);
}

}  // namespace opsync::import
