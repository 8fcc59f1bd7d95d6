// records.h is the record model; proto/record.proto follows it field by field. These tests fail
// when a field is added to one and not the other: the member count of each C++ type (counted at
// compile time) must equal the proto message's field count, apart from the fields listed here
// that only one side has, each with the reason.
#include <gtest/gtest.h>

#include <cstddef>
#include <string_view>

#include "record.pb.h"
#include "records/records.h"

namespace opsync::records {
namespace {

// Converts to anything: T{AnyField{}, ...} compiles for as many fields as T has, and no more.
struct AnyField {
  template <typename T>
  operator T() const;  // never defined: used only in unevaluated contexts
};

template <typename T, typename... Fields>
constexpr size_t field_count() {
  if constexpr (requires { T{Fields{}..., AnyField{}}; }) {
    return field_count<T, Fields..., AnyField>();
  } else {
    return sizeof...(Fields);
  }
}

int proto_fields(const google::protobuf::Descriptor* d) { return d->field_count(); }

bool proto_has(const google::protobuf::Descriptor* d, std::string_view name) {
  return d->FindFieldByName(std::string(name)) != nullptr;
}

TEST(RecordModel, EveryFieldHasItsProtoField) {
  // Same fields on both sides.
  EXPECT_EQ(field_count<ClockModel>(), proto_fields(record::ClockModel::descriptor()));
  EXPECT_EQ(field_count<Channel>(), proto_fields(record::Channel::descriptor()));
  EXPECT_EQ(field_count<Sample>(), proto_fields(record::Sample::descriptor()));
  EXPECT_EQ(field_count<ScanValue>(), proto_fields(record::ScanValue::descriptor()));

  // Source: the proto carries the source's clock model inline (the store keeps it in its own table).
  EXPECT_TRUE(proto_has(record::Source::descriptor(), "clock"));
  EXPECT_EQ(field_count<Source>(), proto_fields(record::Source::descriptor()) - 1);

  // Event and Scan: session_id is implied by the SessionInfo or the stream they travel in.
  EXPECT_FALSE(proto_has(record::Event::descriptor(), "session_id"));
  EXPECT_EQ(field_count<Event>(), proto_fields(record::Event::descriptor()) + 1);
  EXPECT_FALSE(proto_has(record::Scan::descriptor(), "session_id"));
  EXPECT_EQ(field_count<Scan>(), proto_fields(record::Scan::descriptor()) + 1);

  // Session: SessionInfo also lists the session's sources.
  EXPECT_TRUE(proto_has(record::SessionInfo::descriptor(), "sources"));
  EXPECT_EQ(field_count<Session>(), proto_fields(record::SessionInfo::descriptor()) - 1);
}

TEST(RecordModel, FieldNamesMatchWhereBothHaveThem) {
  // The counts above cannot tell a renamed field; the names the store and the proto share can.
  for (std::string_view f : {"method", "offset_ns", "rate", "residual_rms_ns", "residual_max_ns", "n_points",
                             "fitted_at_ns", "uncertainty_ns"}) {
    EXPECT_TRUE(proto_has(record::ClockModel::descriptor(), f)) << f;
  }
  for (std::string_view f : {"id", "session_id", "name", "kind", "address", "note", "transport_delay_s"}) {
    EXPECT_TRUE(proto_has(record::Source::descriptor(), f)) << f;
  }
  for (std::string_view f : {"id", "source_id", "name", "unit", "quantity"}) {
    EXPECT_TRUE(proto_has(record::Channel::descriptor(), f)) << f;
  }
  for (std::string_view f : {"channel_id", "t_ns", "value"}) EXPECT_TRUE(proto_has(record::Sample::descriptor(), f)) << f;
  for (std::string_view f : {"source_id", "t_ns", "kind", "detail"}) {
    EXPECT_TRUE(proto_has(record::Event::descriptor(), f)) << f;
  }
  for (std::string_view f : {"id", "source_id", "number", "start_ns", "end_ns", "label", "values"}) {
    EXPECT_TRUE(proto_has(record::Scan::descriptor(), f)) << f;
  }
  for (std::string_view f : {"id", "name", "started_ns", "ended_ns", "host", "note"}) {
    EXPECT_TRUE(proto_has(record::SessionInfo::descriptor(), f)) << f;
  }
}

// The counter itself, on types whose answer is known.
struct Three {
  int a = 0;
  std::string b;
  double c = 0;
};
static_assert(field_count<Three>() == 3);
static_assert(field_count<Sample>() == 3);

}  // namespace
}  // namespace opsync::records
