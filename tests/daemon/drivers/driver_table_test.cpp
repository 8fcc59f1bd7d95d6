// The driver table holds together: every row is complete, its station.toml example is accepted
// by its own key reader, the station.toml block its simulator writes is too, and the simulated
// links have names the fault syntax can tell apart.
#include <gtest/gtest.h>

#include <set>

#include "drivers/driver_table.h"
#include "runtime/driver_factory.h"
#include "runtime/station_config.h"

namespace opsync::drivers {
namespace {

std::string station_with(const std::string& sources) {
  return "[station]\ndb = \"st.db\"\nsession = \"s\"\n\n[clock]\nmode = \"real\"\n\n" + sources;
}

// A world where nothing happens, enough for the simulators to be built.
class QuietWorld final : public SimWorld {
 public:
  int64_t start_ns() const override { return 1'767'225'600'000'000'000; }
  CellState cell(int64_t) const override { return {}; }
  double ion_current_a(int, int64_t) const override { return 0; }
  std::vector<TriggerEdgeTruth> trigger_edges() const override { return {{start_ns() + 1'000'000'000, 0, true}}; }
  double transport_delay_s() const override { return 30; }
};

SimKnobValues default_knobs() {
  SimKnobValues knobs;
  for (const DriverSpec* d : driver_table()) {
    for (const SimKnob& k : d->sim_knobs) {
      EXPECT_TRUE(knobs.emplace(std::string(k.key), k.default_value).second) << "two rows declare " << k.key;
    }
  }
  return knobs;
}

TEST(DriverTable, EveryRowIsCompleteAndNamedOnce) {
  ASSERT_GE(driver_table().size(), 3u);
  std::set<std::string_view> names;
  for (const DriverSpec* d : driver_table()) {
    EXPECT_TRUE(names.insert(d->name).second) << d->name;
    EXPECT_FALSE(d->summary.empty()) << d->name;
    EXPECT_NE(d->make_driver, nullptr) << d->name;
    EXPECT_NE(d->make_serve_dialect, nullptr) << d->name;
    EXPECT_NE(d->make_sim, nullptr) << d->name;
    EXPECT_EQ(find_driver(d->name), d);
  }
  EXPECT_EQ(find_driver("hiden"), nullptr);
  EXPECT_NE(driver_names().find("macnet"), std::string::npos);
}

TEST(DriverTable, EachExampleIsAcceptedByItsOwnKeys) {
  for (const DriverSpec* d : driver_table()) {
    SCOPED_TRACE(std::string(d->name));
    const runtime::StationConfig c = runtime::parse_station_config(station_with(std::string(d->station_example)), "example.toml");
    ASSERT_EQ(c.sources.size(), 1u);
    EXPECT_EQ(c.sources[0].driver, d->name);
    auto driver = runtime::make_driver(c.sources[0]);
    ASSERT_NE(driver, nullptr);
    EXPECT_FALSE(driver->channels().empty());
  }
}

TEST(DriverTable, AnUnknownKeyOfADriverIsNamedWithItsLine) {
  for (const DriverSpec* d : driver_table()) {
    SCOPED_TRACE(std::string(d->name));
    const std::string text = station_with(std::string(d->station_example) + "no_such_key = 1\n");
    const runtime::StationConfig c = runtime::parse_station_config(text, "example.toml");
    try {
      runtime::make_driver(c.sources[0]);
      ADD_FAILURE() << "no_such_key was accepted";
    } catch (const ConfigError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("example.toml:"), std::string::npos) << what;
      EXPECT_NE(what.find("no_such_key"), std::string::npos) << what;
    }
  }
}

TEST(DriverTable, SimulatorsWriteStationBlocksTheirDriversAccept) {
  const QuietWorld world;
  const SimKnobValues knobs = default_knobs();
  for (double speed : {1.0, 600.0}) {
    const SimSetup setup{world, knobs, speed};
    std::set<std::string> links;
    std::map<std::string, std::string> where;
    std::vector<SimInstrument> instruments;
    for (const DriverSpec* d : driver_table()) {
      instruments.push_back(d->make_sim(setup));
      ASSERT_FALSE(instruments.back().links.empty()) << d->name;
      for (const SimLink& l : instruments.back().links) {
        EXPECT_TRUE(links.insert(l.name).second) << "two links named " << l.name;
        EXPECT_EQ(l.name.find_first_of(":@ "), std::string::npos) << l.name;  // --fault NAME:KIND@T
        ASSERT_NE(l.device, nullptr) << l.name;
        where[l.name] = l.kind == SimLink::Kind::kTcp ? "tcp://127.0.0.1:1" : "serial:///tmp/opsync-test-" + l.name + ".tty";
      }
    }
    std::string sources;
    for (const SimInstrument& s : instruments) sources += s.station_toml(where) + "\n";
    const runtime::StationConfig c = runtime::parse_station_config(station_with(sources), "sim.toml");
    ASSERT_EQ(c.sources.size(), driver_table().size());
    for (const runtime::SourceConfig& s : c.sources) {
      SCOPED_TRACE(s.name);
      EXPECT_NE(runtime::make_driver(s), nullptr);
    }
  }
}

TEST(DriverTable, ServeDialectsComeFromTheRows) {
  for (const DriverSpec* d : driver_table()) {
    const runtime::StationConfig c = runtime::parse_station_config(station_with(std::string(d->station_example)), "example.toml");
    ConfigTable keys = *c.sources[0].options;
    auto dialect = d->make_serve_dialect(keys);
    ASSERT_NE(dialect, nullptr) << d->name;
    EXPECT_NE(dialect->name().find(d->name), std::string_view::npos) << dialect->name();
  }
}

}  // namespace
}  // namespace opsync::drivers
