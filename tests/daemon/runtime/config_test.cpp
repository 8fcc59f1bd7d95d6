// station.toml validation and address parsing: every mistake is named with its line and key.
#include <gtest/gtest.h>

#include "runtime/address.h"
#include "runtime/driver_factory.h"
#include "runtime/station_config.h"

namespace opsync::runtime {
namespace {

constexpr const char* kGood = R"toml(
[station]
db = "st.db"
session = "s1"

[clock]
mode = "real"

[[source]]
name = "cycler"
driver = "macnet"
address = "tcp://127.0.0.1:57570"
mode = "binary"
channel = 4
poll_period_s = 0.2

[[source]]
name = "rga"
driver = "rga"
address = "serial:///dev/ttyUSB0?baud=28800&rtscts=1"
masses = [32, 44, 28]
noise_floor = 3

[[source]]
name = "bridge"
driver = "bridge"
address = "serial:///dev/ttyACM0"
sync_period_s = 0.05
sync_window_s = 30
)toml";

std::string error_of(const std::string& text) {
  try {
    const StationConfig c = parse_station_config(text, "station.toml");
    for (const auto& s : c.sources) make_driver(s);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(StationConfig, GoodConfigBuildsEveryDriver) {
  const StationConfig c = parse_station_config(kGood, "station.toml");
  ASSERT_EQ(c.sources.size(), 3u);
  EXPECT_EQ(c.session, "s1");
  const auto& serial = std::get<SerialAddress>(c.sources[1].address);
  EXPECT_EQ(serial.baud, 28800u);
  EXPECT_TRUE(serial.rtscts);
  for (const auto& s : c.sources) {
    auto d = make_driver(s);
    ASSERT_TRUE(d);
  }
  EXPECT_EQ(make_driver(c.sources[1])->channels().size(), 3u);  // three masses
  EXPECT_EQ(make_driver(c.sources[0])->kind(), "cycler");
}

TEST(StationConfig, UnknownKeysAreErrorsWithTheirLine) {
  std::string text = kGood;
  text.replace(text.find("noise_floor = 3"), 15, "noise_flor = 3");
  const std::string e = error_of(text);
  EXPECT_NE(e.find("station.toml:22"), std::string::npos) << e;
  EXPECT_NE(e.find("source[1].noise_flor"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;

  EXPECT_NE(error_of(std::string(kGood) + "\n[extra]\nx = 1\n").find("'extra': unknown key"), std::string::npos);
}

TEST(StationConfig, WrongTypesAndValuesAreNamed) {
  std::string text = kGood;
  text.replace(text.find("channel = 4"), 11, "channel = \"4\"");
  EXPECT_NE(error_of(text).find("'source[0].channel': must be a whole number"), std::string::npos) << error_of(text);

  text = kGood;
  text.replace(text.find("mode = \"binary\""), 15, "mode = \"xml\"");
  EXPECT_NE(error_of(text).find("source[0].mode"), std::string::npos) << error_of(text);

  text = kGood;
  text.replace(text.find("driver = \"rga\""), 14, "driver = \"hiden\"");
  EXPECT_NE(error_of(text).find("'hiden' is not a driver"), std::string::npos) << error_of(text);

  text = kGood;
  text.replace(text.find("masses = [32, 44, 28]"), 21, "masses = [32, 4400]");
  EXPECT_NE(error_of(text).find("source[1]"), std::string::npos) << error_of(text);

  text = kGood;
  text.replace(text.find("sync_window_s = 30"), 18, "sync_window_s = 0.5");
  EXPECT_NE(error_of(text).find("'source[2].sync_window_s': must be in [1, 86400] seconds"), std::string::npos)
      << error_of(text);

  text = kGood;
  text.replace(text.find("name = \"rga\""), 12, "name = \"cycler\"");
  EXPECT_NE(error_of(text).find("used by two sources"), std::string::npos) << error_of(text);

  EXPECT_NE(error_of("[station]\ndb = \"x\"\n").find("'station.session': is required"), std::string::npos)
      << error_of("[station]\ndb = \"x\"\n");
  EXPECT_NE(error_of("[station\n").find("station.toml:1"), std::string::npos);
  EXPECT_NE(error_of("[station]\ndb = \"x\"\nsession = \"s\"\n").find("at least one [[source]]"), std::string::npos);
}

TEST(StationConfig, StatusAddressIsCheckedWithItsLine) {
  const std::string head = "[station]\ndb = \"x.db\"\nsession = \"s\"\n[status]\nhttp = ";
  const std::string tail = "\n[[source]]\nname = \"c\"\ndriver = \"macnet\"\naddress = \"tcp://127.0.0.1:1\"\n";
  for (const char* bad : {"\"127.0.0.1:70000\"", "\"127.0.0.1:abc\"", "\"127.0.0.1:-1\"", "\"127.0.0.300:8642\"",
                          "\"localhost:8642\"", "\"8642\"", "\"127.0.0.1:\""}) {
    const std::string e = error_of(head + bad + tail);
    EXPECT_NE(e.find("station.toml:5: 'status.http'"), std::string::npos) << bad << ": " << e;
  }
  EXPECT_NE(error_of(head + "\"127.0.0.1:70000\"" + tail).find("port '70000' is not a number from 0 to 65535"),
            std::string::npos);
  EXPECT_NE(error_of(head + "\"localhost:80\"" + tail).find("host 'localhost' is not an IP address"), std::string::npos);

  StationConfig c = parse_station_config(head + "\"[::1]:0\"" + tail, "station.toml");
  EXPECT_EQ(c.http.host, "::1");
  EXPECT_EQ(c.http.port, 0);
  EXPECT_EQ(c.http_where, "station.toml:5: 'status.http'");
  c = parse_station_config(head + "\"0.0.0.0:65535\"" + tail, "station.toml");
  EXPECT_EQ(c.http.port, 65535);
  c = parse_station_config(head + "\"\"" + tail, "station.toml");
  EXPECT_TRUE(c.http_listen.empty());  // no endpoint
}

TEST(Address, ParsesAndExplains) {
  std::string err;
  auto a = parse_address("tcp://[::1]:818", err);
  ASSERT_TRUE(a);
  EXPECT_EQ(std::get<TcpAddress>(*a).host, "::1");
  EXPECT_EQ(std::get<TcpAddress>(*a).port, 818);
  a = parse_address("serial:///dev/ttyS0?baud=9600&stopbits=2", err);
  ASSERT_TRUE(a);
  EXPECT_EQ(std::get<SerialAddress>(*a).stop_bits, 2u);
  EXPECT_FALSE(std::get<SerialAddress>(*a).rtscts);
  for (const char* bad : {"tcp://host", "tcp://host:0", "tcp://host:99999", "serial://dev/tty", "udp://x:1",
                          "serial:///dev/ttyS0?parity=odd", "serial:///dev/ttyS0?baud=fast"}) {
    err.clear();
    EXPECT_FALSE(parse_address(bad, err)) << bad;
    EXPECT_NE(err.find(bad), std::string::npos) << err;
  }
}

}  // namespace
}  // namespace opsync::runtime
