// Import transactions are all or nothing.
#include "store/transaction_writer.h"

#include <gtest/gtest.h>

#include "store/reader.h"
#include "support/temp_db.h"

namespace opsync::store {
namespace {

TEST(TransactionWriter, NothingWithoutCommit) {
  test::TempDb tmp;
  {
    TransactionWriter tw(tmp.path());
    const records::SessionId s = tw.insert().open_session(records::Session{0, "imp", 0, 0, "", ""});
    const records::SourceId src = tw.insert().add_source(records::Source{0, s, "file.csv", "cycler", "", ""});
    const records::ChannelId ch = tw.insert().add_channel(records::Channel{0, src, "voltage", "V", ""});
    const std::vector<records::Sample> v = {{ch, 1, 1.0}, {ch, 2, 2.0}};
    tw.insert().add_samples(v);
    // destroyed without commit, as when an import fails half way
  }
  StoreReader r(tmp.path());
  EXPECT_TRUE(r.sessions().empty());
}

TEST(TransactionWriter, CommitWritesEverything) {
  test::TempDb tmp;
  {
    TransactionWriter tw(tmp.path());
    const records::SessionId s = tw.insert().open_session(records::Session{0, "imp", 0, 0, "", ""});
    const records::SourceId src = tw.insert().add_source(records::Source{0, s, "file.csv", "cycler", "", ""});
    const records::ChannelId ch = tw.insert().add_channel(records::Channel{0, src, "voltage", "V", ""});
    const std::vector<records::Sample> v = {{ch, 1, 1.0}, {ch, 1, 2.0}};
    tw.insert().add_samples(v);
    tw.insert().add_import(records::ImportRecord{src, "/x/file.csv", "csv", 2, "assumed UTC", 7});
    tw.commit();
  }
  StoreReader r(tmp.path());
  auto s = r.find_session("imp");
  ASSERT_TRUE(s);
  auto src = r.sources(s->id);
  ASSERT_EQ(src.size(), 1u);
  EXPECT_EQ(r.samples(r.channels(src[0].id)[0].id).size(), 2u);
  auto imp = r.imports(src[0].id);
  ASSERT_EQ(imp.size(), 1u);
  EXPECT_EQ(imp[0].assumptions, "assumed UTC");
}

}  // namespace
}  // namespace opsync::store
