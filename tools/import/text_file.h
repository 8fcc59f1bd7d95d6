// Reading a user's text file into UTF-8 lines: encoding detection (UTF-8, UTF-16 with BOM,
// otherwise cp1252/latin-1, as instrument PCs write), line splitting (CRLF, LF, CR) and
// 1-based line numbers for error messages. Binary and empty files are rejected here.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace opsync::import {

// The decoded text of one file. Lines are kept as offsets into `text`, so a TextFile can be
// copied or moved without leaving dangling views.
class TextFile {
 public:
  TextFile() = default;
  TextFile(std::string path, std::string utf8_text, std::string encoding);

  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }
  const std::string& encoding() const { return encoding_; }  // "utf-8", "cp1252", ...
  size_t line_count() const { return lines_.size(); }
  // `index` is 0-based; the line's 1-based number is index + 1. No line ending included.
  std::string_view line(size_t index) const {
    return std::string_view(text_).substr(lines_[index].begin, lines_[index].size);
  }

 private:
  struct Span {
    size_t begin = 0;
    size_t size = 0;
  };
  std::string path_;
  std::string text_;
  std::string encoding_;
  std::vector<Span> lines_;
};

bool is_valid_utf8(std::string_view bytes);

// Raw bytes to UTF-8. Valid UTF-8 is kept (a BOM is dropped); UTF-16 needs its BOM; anything
// else is read as cp1252 (a superset of latin-1 for printable text). `encoding` receives the
// name of what was detected.
std::string decode_text(std::string_view bytes, std::string* encoding = nullptr);

// Splits on LF, CRLF or lone CR. A final line ending does not produce an extra empty line.
std::vector<std::string_view> split_lines(std::string_view text);

// Reads and decodes `path`. Throws ImportError if it cannot be read, is empty or looks binary.
TextFile read_text_file(const std::string& path);

}  // namespace opsync::import
