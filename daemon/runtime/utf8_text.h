// Text from outside (an HTTP body, a terminal in latin-1) made safe to store and to put into
// JSON: every byte sequence that is not UTF-8 becomes U+FFFD, and the caller learns how many.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace opsync::runtime {

struct Utf8Text {
  std::string text;     // valid UTF-8
  size_t replaced = 0;  // invalid sequences replaced by U+FFFD
};

Utf8Text to_valid_utf8(std::string_view bytes);

}  // namespace opsync::runtime
