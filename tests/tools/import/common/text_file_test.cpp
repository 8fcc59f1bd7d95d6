// Encoding detection and line splitting of import files.
#include "import/common/text_file.h"

#include <string>

#include <gtest/gtest.h>

#include "import_test_util.h"

namespace opsync::import {
namespace {

TEST(TextFile, Utf8KeptAndBomStripped) {
  std::string enc;
  EXPECT_EQ(decode_text("\xEF\xBB\xBFtime/s,\xC2\xB5" "A", &enc), "time/s,\xC2\xB5" "A");
  EXPECT_EQ(enc, "utf-8 (BOM)");
  EXPECT_EQ(decode_text("plain", &enc), "plain");
  EXPECT_EQ(enc, "utf-8");
}

TEST(TextFile, Latin1AndCp1252ConvertedToUtf8) {
  std::string enc;
  // 0xB5 = micro sign in latin-1 (EC-Lab "Capacitance charge/µF"), 0x80 = euro in cp1252.
  EXPECT_EQ(decode_text("I/\xB5" "A \x80", &enc), "I/\xC2\xB5" "A \xE2\x82\xAC");
  EXPECT_EQ(enc, "cp1252");
  EXPECT_FALSE(is_valid_utf8("\xB5"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));  // overlong
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));
}

TEST(TextFile, Utf16WithBom) {
  const std::string bytes("\xFF\xFEt\0,\0\xB5\0", 8);
  std::string enc;
  EXPECT_EQ(decode_text(bytes, &enc), "t,\xC2\xB5");
  EXPECT_EQ(enc, "utf-16le");
}

TEST(TextFile, SplitsCrLfLfAndCr) {
  const auto lines = split_lines("a\r\nb\nc\rd\r\n");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "a");
  EXPECT_EQ(lines[2], "c");
  EXPECT_EQ(lines[3], "d");
  EXPECT_EQ(split_lines("x\n\ny").size(), 3u);  // empty line kept so numbers stay right
}

TEST(TextFile, ReadKeepsLineNumbersAndSurvivesCopies) {
  const std::string path = testing::write_temp("lines.txt", "first\r\nsecond\r\n\r\nfourth");
  TextFile f = read_text_file(path);
  const TextFile copy = f;  // lines are offsets, not views: copies stay valid
  f = TextFile();
  ASSERT_EQ(copy.line_count(), 4u);
  EXPECT_EQ(copy.line(1), "second");
  EXPECT_EQ(copy.line(3), "fourth");
}

}  // namespace
}  // namespace opsync::import
