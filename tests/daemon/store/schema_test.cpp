// Schema versions and migrations: old files are upgraded with their data, newer ones refused.
#include "store/schema.h"

#include <gtest/gtest.h>

#include "store/reader.h"
#include "store/writer.h"
#include "support/temp_db.h"

namespace opsync::store {
namespace {

TEST(Schema, NewFileIsCurrentAndInWalMode) {
  test::TempDb tmp;
  { StoreWriter w(tmp.path()); }
  Db db(tmp.path(), Db::Mode::ReadOnly);
  EXPECT_EQ(schema_version(db), kSchemaVersion);
  Stmt st(db, "PRAGMA journal_mode");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.col_text(0), "wal");
}

TEST(Schema, VersionOneFileIsMigratedWithItsData) {
  test::TempDb tmp;
  {
    Db db(tmp.path(), Db::Mode::ReadWrite);
    configure_connection(db, true);
    EXPECT_EQ(migrate(db, 1), 0);
    EXPECT_EQ(schema_version(db), 1);
    db.exec("INSERT INTO sessions (id, name, started_ns) VALUES (1, 'old', 5)");
    db.exec("INSERT INTO sources (id, session_id, name, kind) VALUES (1, 1, 'cyc', 'cycler')");
    db.exec("INSERT INTO channels (id, source_id, name, unit) VALUES (1, 1, 'voltage', 'V')");
    db.exec("INSERT INTO samples VALUES (1, 10, 0, 3.7), (1, 10, 1, 3.8)");
    EXPECT_THROW(db.exec("SELECT * FROM captures"), StoreError);  // not in v1
  }
  {
    StoreWriter w(tmp.path());  // migrates to current
    w.push(records::Sample{1, 10, 3.9});  // continues seq after the old rows
  }
  Db db(tmp.path(), Db::Mode::ReadOnly);
  EXPECT_EQ(schema_version(db), kSchemaVersion);
  EXPECT_EQ(db.query_int("SELECT COUNT(*) FROM samples WHERE channel_id = 1 AND t_ns = 10"), 3);
  EXPECT_EQ(db.query_int("SELECT COUNT(*) FROM captures"), 0);
  EXPECT_EQ(db.query_int("SELECT COUNT(*) FROM imports"), 0);
}

TEST(Schema, ReaderUpgradesAnOldFile) {
  test::TempDb tmp;
  {
    Db db(tmp.path(), Db::Mode::ReadWrite);
    configure_connection(db, true);
    migrate(db, 2);
    db.exec("INSERT INTO sessions (id, name, started_ns) VALUES (1, 'old', 5)");
  }
  StoreReader r(tmp.path());
  EXPECT_EQ(r.sessions().size(), 1u);
  Db db(tmp.path(), Db::Mode::ReadOnly);
  EXPECT_EQ(schema_version(db), kSchemaVersion);
}

TEST(Schema, VersionThreeCapturesAreKeptAndTicksAllowedAfterV4) {
  test::TempDb tmp;
  {
    Db db(tmp.path(), Db::Mode::ReadWrite);
    configure_connection(db, true);
    migrate(db, 3);
    db.exec("INSERT INTO sessions (id, name, started_ns) VALUES (1, 'old', 5)");
    db.exec("INSERT INTO sources (id, session_id, name, kind) VALUES (1, 1, 'rga', 'ms')");
    db.exec("INSERT INTO captures (id, source_id, t_ns, direction, bytes) VALUES (7, 1, 10, 'out', X'4944'), "
            "(9, 1, 12, 'in', X'0d0a')");
    EXPECT_THROW(db.exec("INSERT INTO captures (source_id, t_ns, direction, bytes) VALUES (1, 13, 'tick', X'')"),
                 StoreError);  // v3 only knows in and out
  }
  {
    StoreWriter w(tmp.path());
    w.push(records::Capture{1, 20, records::CaptureKind::kTick, ""});
  }
  StoreReader r(tmp.path());
  std::vector<records::Capture> got;
  r.for_each_capture(1, [&](const records::Capture& c) {
    got.push_back(c);
    return true;
  });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].kind, records::CaptureKind::kOut);
  EXPECT_EQ(got[0].bytes, "ID");
  EXPECT_EQ(got[1].kind, records::CaptureKind::kIn);
  EXPECT_EQ(got[1].bytes, "\r\n");
  EXPECT_EQ(got[2].kind, records::CaptureKind::kTick);
  EXPECT_EQ(got[2].t_ns, 20);
  EXPECT_TRUE(got[2].bytes.empty());
  EXPECT_EQ(r.count_captures(1), 3u);
  Db db(tmp.path(), Db::Mode::ReadOnly);
  EXPECT_EQ(db.query_int("SELECT id FROM captures WHERE t_ns = 12"), 9);  // ids survive the rebuild
  EXPECT_EQ(db.query_int("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'captures_by_time'"), 1);
}

TEST(Schema, VersionFourTransportDelayNotesBecomeTheTypedColumn) {
  test::TempDb tmp;
  {
    Db db(tmp.path(), Db::Mode::ReadWrite);
    configure_connection(db, true);
    migrate(db, 4);
    db.exec("INSERT INTO sessions (id, name, started_ns) VALUES (1, 'old', 5)");
    // As opsyncd up to v4 wrote it, with a later pair, without one, and a note about something else.
    db.exec("INSERT INTO sources (id, session_id, name, kind, note) VALUES "
            "(1, 1, 'rga', 'ms', 'transport_delay_s=30'), (2, 1, 'rga2', 'ms', 'transport_delay_s=12.5; other=1'), "
            "(3, 1, 'cyc', 'cycler', ''), (4, 1, 'file.csv', 'cycler', 'time from the file name')");
  }
  StoreReader r(tmp.path());
  const auto sources = r.sources(1);
  ASSERT_EQ(sources.size(), 4u);
  EXPECT_DOUBLE_EQ(sources[0].transport_delay_s, 30.0);
  EXPECT_EQ(sources[0].note, "");
  EXPECT_DOUBLE_EQ(sources[1].transport_delay_s, 12.5);
  EXPECT_EQ(sources[1].note, "other=1");
  EXPECT_DOUBLE_EQ(sources[2].transport_delay_s, 0.0);
  EXPECT_DOUBLE_EQ(sources[3].transport_delay_s, 0.0);
  EXPECT_EQ(sources[3].note, "time from the file name");
}

TEST(Schema, TransportDelayIsWrittenAndReadBack) {
  test::TempDb tmp;
  {
    StoreWriter w(tmp.path());
    const records::SessionId s = w.open_session(records::Session{0, "s", 5, 0, "", ""});
    w.add_source(records::Source{0, s, "rga", "ms", "", "", 42.5});
  }
  StoreReader r(tmp.path());
  const auto sources = r.sources(r.sessions().at(0).id);
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_DOUBLE_EQ(sources[0].transport_delay_s, 42.5);
}

TEST(Schema, NewerFileIsRefusedWithAClearMessage) {
  test::TempDb tmp;
  {
    Db db(tmp.path(), Db::Mode::ReadWrite);
    db.exec("PRAGMA user_version = 99");
  }
  try {
    StoreWriter w(tmp.path());
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("newer than this opsync"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace opsync::store
