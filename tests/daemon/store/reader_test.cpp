// Reader queries: sessions by name or id, time ranges, channel statistics, bad files.
#include "store/reader.h"

#include <fstream>
#include <gtest/gtest.h>

#include "store/sqlite_db.h"
#include "store/writer.h"
#include "support/temp_db.h"

namespace opsync::store {
namespace {

TEST(StoreReader, SessionsAndRanges) {
  test::TempDb tmp;
  records::ChannelId ch = 0;
  {
    StoreWriter w(tmp.path());
    const records::SessionId a = w.open_session(records::Session{0, "first", 100, 0, "", ""});
    w.open_session(records::Session{0, "second", 50, 0, "", ""});
    const records::SourceId src = w.add_source(records::Source{0, a, "src", "cycler", "", ""});
    ch = w.add_channel(records::Channel{0, src, "voltage", "V", ""});
    for (int i = 0; i < 100; ++i) w.push(records::Sample{ch, i * 10, static_cast<double>(i)});
    w.end_session(a, 2000);
  }
  StoreReader r(tmp.path());
  auto all = r.sessions();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "second");  // ordered by start
  auto s = r.find_session("first");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->ended_ns, 2000);
  auto by_id = r.find_session(std::to_string(s->id));
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->name, "first");
  EXPECT_FALSE(r.find_session("nope"));

  auto v = r.samples(ch, TimeRange{200, 300});  // inclusive both ends
  ASSERT_EQ(v.size(), 11u);
  EXPECT_EQ(v.front().t_ns, 200);
  EXPECT_EQ(v.back().t_ns, 300);
  int n = 0;
  EXPECT_EQ(r.scan_samples(ch, {}, [&](int64_t, double) { return ++n < 5; }), 5u);

  const ChannelStats st = r.channel_stats(ch);
  EXPECT_EQ(st.n_samples, 100u);
  EXPECT_EQ(st.first_t_ns, 0);
  EXPECT_EQ(st.last_t_ns, 990);
  EXPECT_DOUBLE_EQ(st.max_value, 99.0);
}

TEST(StoreReader, MissingFileSaysSo) {
  try {
    StoreReader r("/tmp/opsync-definitely-missing.db");
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos);
  }
}

TEST(StoreReader, NonDatabaseFileIsRejected) {
  test::TempDb tmp;
  std::ofstream(tmp.path()) << "Rec#\tCyc#\tStep\nthis is a text file, not a database\n";
  try {
    StoreReader r(tmp.path());
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("not an opsync database"), std::string::npos) << e.what();
  }
}

TEST(StoreReader, EmptySqliteFileWithoutSchemaIsRejected) {
  test::TempDb tmp;
  {
    Db db(tmp.path(), Db::Mode::ReadWrite);
    db.exec("CREATE TABLE other (x)");
  }
  EXPECT_THROW(StoreReader r(tmp.path()), StoreError);
}

}  // namespace
}  // namespace opsync::store
