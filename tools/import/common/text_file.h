// Reading a user's text file into UTF-8 lines: encoding detection (UTF-8, UTF-16 with BOM,
// otherwise cp1252/latin-1, as instrument PCs write), line splitting (CRLF, LF, CR) and
// 1-based line numbers for error messages. Binary and empty files are rejected here.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace opsync::import {

class MappedFile;

// The decoded text of one file. Lines are kept as offsets into `text`, so a TextFile can be
// copied or moved without leaving dangling views.
class TextFile {
 public:
  TextFile() = default;
  TextFile(std::string path, std::string utf8_text, std::string encoding);
  // Valid UTF-8 read in place from the mapping (after `skip` bytes of BOM): no copy.
  TextFile(std::string path, std::shared_ptr<const MappedFile> map, size_t skip, std::string encoding);

  const std::string& path() const { return path_; }
  std::string_view text() const;
  const std::string& encoding() const { return encoding_; }  // "utf-8", "cp1252", ...
  size_t line_count() const { return lines_.size(); }
  // `index` is 0-based; the line's 1-based number is index + 1. No line ending included.
  std::string_view line(size_t index) const { return text().substr(lines_[index].begin, lines_[index].size); }

  // True when the last line has no line ending and does not have the shape of the line before
  // it (other field separators, or a last field of another form: `30.1` after `30.131748`):
  // the file was cut while being written or copied. A complete last line without a line
  // ending (EC-Lab writes them) is not cut.
  bool last_line_cut() const { return last_line_cut_; }
  // Forgets the last line (for importing a cut file without its cut line).
  void drop_last_line();

 private:
  struct Span {
    size_t begin = 0;
    size_t size = 0;
  };
  void index_lines();
  std::string path_;
  std::string owned_;                      // decoded text, when it had to be converted
  std::shared_ptr<const MappedFile> map_;  // or the file itself, when it is UTF-8 already
  size_t skip_ = 0;
  std::string encoding_;
  std::vector<Span> lines_;
  bool last_line_cut_ = false;
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
// The same for a file already mapped (import_file() maps each file once).
TextFile read_text_file(const std::string& path, std::shared_ptr<const MappedFile> map);

}  // namespace opsync::import
