// Store rows <-> protobuf records, and the session summary.
#include "store/proto_convert.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "store/writer.h"
#include "support/temp_db.h"

namespace opsync::store {
namespace {

TEST(ProtoConvert, ClockModelRoundTrip) {
  records::ClockModel m;
  m.method = "regression";
  m.offset_ns = -5;
  m.rate = 1.00002;
  m.residual_rms_ns = 12.5;
  m.n_points = 9;
  const records::ClockModel back = from_proto(to_proto(m));
  EXPECT_EQ(back.method, "regression");
  EXPECT_EQ(back.offset_ns, -5);
  EXPECT_DOUBLE_EQ(back.rate, 1.00002);
  EXPECT_EQ(back.n_points, 9);
}

TEST(ProtoConvert, ScanAndEventRoundTripThroughBytes) {
  records::Scan s{3, 1, 2, 17, 100, 250, "b", {{"strain", "", 2e-4}}};
  std::string bytes;
  ASSERT_TRUE(to_proto(s).SerializeToString(&bytes));
  record::Scan parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  const records::Scan back = from_proto(parsed, 1);
  EXPECT_EQ(back.number, 17);
  EXPECT_EQ(back.end_ns, 250);
  ASSERT_EQ(back.values.size(), 1u);
  EXPECT_DOUBLE_EQ(back.values[0].value, 2e-4);
  const records::Event e = from_proto(to_proto(records::Event{1, 2, 99, "gap", "rga 1.5 s"}), 1);
  EXPECT_EQ(e.t_ns, 99);
  EXPECT_EQ(e.detail, "rga 1.5 s");
}

TEST(ProtoConvert, SummaryCountsWhatIsStored) {
  test::TempDb tmp;
  {
    StoreWriter w(tmp.path());
    const records::SessionId s = w.open_session(records::Session{0, "sum", 0, 0, "", ""});
    const records::SourceId src = w.add_source(records::Source{0, s, "rga", "ms", "", ""});
    const records::ChannelId ch = w.add_channel(records::Channel{0, src, "ion_current_m32", "A", "O2"});
    for (int i = 0; i < 7; ++i) w.push(records::Sample{ch, i, 1e-10 * i});
    w.push(records::Event{s, src, 3, "gap", ""});
  }
  StoreReader r(tmp.path());
  const auto summary = summarize(r, *r.find_session("sum"));
  EXPECT_EQ(summary.n_samples(), 7u);
  EXPECT_EQ(summary.n_events(), 1u);
  ASSERT_EQ(summary.channels_size(), 1);
  EXPECT_EQ(summary.channels(0).last_t_ns(), 6);
  EXPECT_DOUBLE_EQ(summary.channels(0).max_value(), 6e-10);
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(summary, &json).ok());
  EXPECT_NE(json.find("ion_current_m32"), std::string::npos);
}

}  // namespace
}  // namespace opsync::store
