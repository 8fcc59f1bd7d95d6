// Byte-level reading of import files: encoding detection, conversion to UTF-8, line splitting.
#include "import/common/text_file.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "import/import_types.h"
#include "import/common/mapped_file.h"

namespace opsync::import {
namespace {

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// cp1252 code points for bytes 0x80..0x9F; the five undefined bytes keep their latin-1 value.
constexpr std::array<uint16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

std::string decode_utf16(std::string_view bytes, bool little_endian) {
  std::string out;
  out.reserve(bytes.size() / 2);
  auto unit_at = [&](size_t i) -> uint32_t {
    const auto lo = static_cast<unsigned char>(bytes[little_endian ? i : i + 1]);
    const auto hi = static_cast<unsigned char>(bytes[little_endian ? i + 1 : i]);
    return static_cast<uint32_t>(hi) << 8 | lo;
  };
  for (size_t i = 2; i + 1 < bytes.size(); i += 2) {
    uint32_t cp = unit_at(i);
    if (cp >= 0xD800 && cp < 0xDC00 && i + 3 < bytes.size()) {
      const uint32_t low = unit_at(i + 2);
      if (low >= 0xDC00 && low < 0xE000) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        i += 2;
      }
    }
    append_utf8(out, cp);
  }
  return out;
}

// A hint for the user when a known binary format is recognised by name or magic bytes.
std::string binary_hint(const std::string& path, std::string_view bytes) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  // The binary readers (.mpr, .nda, .ndax, .res) are chosen by signature before text decoding;
  // a binary file that reaches here has none of their signatures.
  (void)bytes;
  if (ext == ".mpr") return "named .mpr but without EC-Lab's 'BIO-LOGIC MODULAR FILE' signature: damaged, or not an EC-Lab file";
  if (ext == ".res") return "named .res but not a Jet/Access database: damaged, or not an Arbin results file";
  if (ext == ".nda" || ext == ".ndax") return "named like a Neware file but without its 'NEWARE' or zip signature: damaged?";
  return "opsync reads BioLogic .mpr, Neware .nda/.ndax and Arbin .res by their signatures and this file has none; "
         "export the data as delimited text from the instrument software";
}

// The last field of a line with its digits masked ("30.131748" -> "99.999999"), and how many
// separators of each kind the line has: two lines written by the same program in the same
// columns look alike, a line cut short does not.
bool same_shape(std::string_view a, std::string_view b) {
  for (const char sep : {'\t', ',', ';'}) {
    if (std::count(a.begin(), a.end(), sep) != std::count(b.begin(), b.end(), sep)) return false;
  }
  auto last_field_mask = [](std::string_view l) {
    while (!l.empty() && l.back() == ' ') l.remove_suffix(1);
    const size_t cut = l.find_last_of("\t,;");
    if (cut != std::string_view::npos) l.remove_prefix(cut + 1);
    std::string mask(l);
    for (char& c : mask)
      if (c >= '0' && c <= '9') c = '9';
    return mask;
  };
  return last_field_mask(a) == last_field_mask(b);
}

}  // namespace

TextFile::TextFile(std::string path, std::string utf8_text, std::string encoding)
    : path_(std::move(path)), owned_(std::move(utf8_text)), encoding_(std::move(encoding)) {
  index_lines();
}

TextFile::TextFile(std::string path, std::shared_ptr<const MappedFile> map, size_t skip, std::string encoding)
    : path_(std::move(path)), map_(std::move(map)), skip_(skip), encoding_(std::move(encoding)) {
  index_lines();
}

std::string_view TextFile::text() const {
  return map_ ? map_->bytes().substr(skip_) : std::string_view(owned_);
}

void TextFile::index_lines() {
  const std::string_view all = text();
  for (std::string_view l : split_lines(all)) {
    lines_.push_back(Span{static_cast<size_t>(l.data() - all.data()), l.size()});
  }
  last_line_cut_ = false;
  if (lines_.size() >= 2 && !all.empty() && all.back() != '\n' && all.back() != '\r') {
    // Compare with the nearest earlier line that has text (blank lines say nothing).
    for (size_t k = lines_.size() - 1; k-- > 0;) {
      if (line(k).find_first_not_of(" \t") == std::string_view::npos) continue;
      last_line_cut_ = !same_shape(line(k), line(lines_.size() - 1));
      break;
    }
  }
}

void TextFile::drop_last_line() {
  if (!lines_.empty()) lines_.pop_back();
  last_line_cut_ = false;
}

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms and surrogates are not UTF-8: such bytes are more likely cp1252 text.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000))
      return false;
    i += len;
  }
  return true;
}

std::string decode_text(std::string_view bytes, std::string* encoding) {
  auto set = [&](const char* name) {
    if (encoding) *encoding = name;
  };
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
      static_cast<unsigned char>(bytes[1]) == 0xFE) {
    set("utf-16le");
    return decode_utf16(bytes, true);
  }
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0xFE &&
      static_cast<unsigned char>(bytes[1]) == 0xFF) {
    set("utf-16be");
    return decode_utf16(bytes, false);
  }
  if (is_valid_utf8(bytes)) {
    if (bytes.substr(0, 3) == "\xEF\xBB\xBF") {
      set("utf-8 (BOM)");
      return std::string(bytes.substr(3));
    }
    set("utf-8");
    return std::string(bytes);
  }
  set("cp1252");
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 16);
  for (char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    if (b < 0x80) {
      out += ch;
    } else if (b < 0xA0) {
      append_utf8(out, kCp1252High[b - 0x80]);
    } else {
      append_utf8(out, b);
    }
  }
  return out;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  lines.reserve(text.size() / 64 + 1);
  size_t start = 0;
  const size_t n = text.size();
  for (size_t i = 0; i < n; ++i) {
    const char c = text[i];
    if (c == '\n' || c == '\r') {
      lines.push_back(text.substr(start, i - start));
      if (c == '\r' && i + 1 < n && text[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  if (start < n) lines.push_back(text.substr(start));
  return lines;
}

TextFile read_text_file(const std::string& path) {
  return read_text_file(path, std::make_shared<const MappedFile>(path));
}

TextFile read_text_file(const std::string& path, std::shared_ptr<const MappedFile> map) {
  const std::string_view bytes = map->bytes();
  const bool utf16 = bytes.size() >= 2 && ((static_cast<unsigned char>(bytes[0]) == 0xFF &&
                                            static_cast<unsigned char>(bytes[1]) == 0xFE) ||
                                           (static_cast<unsigned char>(bytes[0]) == 0xFE &&
                                            static_cast<unsigned char>(bytes[1]) == 0xFF));
  if (!utf16) {
    const size_t nul = bytes.find('\0');
    if (nul != std::string::npos) {
      throw ImportError(path, 0, "",
                        fmt::format("looks binary (NUL byte at offset {}), not delimited text: {}",
                                    nul, binary_hint(path, bytes)));
    }
  }
  if (bytes.find_first_not_of(" \t\r\n") == std::string::npos)
    throw ImportError(path, 0, "", "file is empty; nothing to import");
  if (!utf16 && is_valid_utf8(bytes)) {
    // Read in place: no copy of the file.
    const bool bom = bytes.substr(0, 3) == "\xEF\xBB\xBF";
    TextFile file(path, std::move(map), bom ? 3 : 0, bom ? "utf-8 (BOM)" : "utf-8");
    if (file.text().find_first_not_of(" \t\r\n") == std::string::npos)
      throw ImportError(path, 0, "", "file is empty; nothing to import");
    return file;
  }
  std::string encoding;
  std::string text = decode_text(bytes, &encoding);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw ImportError(path, 0, "", "file is empty; nothing to import");
  return TextFile(path, std::move(text), std::move(encoding));
}

}  // namespace opsync::import
