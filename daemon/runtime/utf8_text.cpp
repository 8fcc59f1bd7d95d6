// UTF-8 repair through nlohmann-json's serializer, which already knows the UTF-8 rules
// (overlong forms, surrogates, truncated sequences) and replaces what breaks them.
#include "runtime/utf8_text.h"

#include <nlohmann/json.hpp>

namespace opsync::runtime {
namespace {

size_t count_replacement_chars(std::string_view s) {
  constexpr std::string_view kFffd = "\xEF\xBF\xBD";
  size_t n = 0;
  for (size_t at = s.find(kFffd); at != std::string_view::npos; at = s.find(kFffd, at + kFffd.size())) ++n;
  return n;
}

}  // namespace

Utf8Text to_valid_utf8(std::string_view bytes) {
  Utf8Text out;
  // ensure_ascii = false keeps valid text byte for byte; only bad sequences change.
  const std::string quoted =
      nlohmann::json(std::string(bytes)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out.text = nlohmann::json::parse(quoted).get<std::string>();
  const size_t before = count_replacement_chars(bytes);
  const size_t after = count_replacement_chars(out.text);
  out.replaced = after > before ? after - before : 0;
  return out;
}

}  // namespace opsync::runtime
