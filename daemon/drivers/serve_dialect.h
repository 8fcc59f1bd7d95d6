// What serving a recording (`opsync replay serve`) needs to know of a protocol, and no more: how
// the daemon's requests are cut into messages, which parts of a request must agree with a
// recorded one for the recorded answer to fit (a MacNet JSON id, a bridge ping's sequence number
// and send time do not), how to rewrite those parts in the answer, and which instrument messages
// come unasked (bridge edges and heartbeats), to be played at their recorded times instead.
// Each driver's folder has its dialect; the driver table hands it out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace opsync::drivers {

class ServeDialect {
 public:
  virtual ~ServeDialect() = default;
  virtual std::string_view name() const = 0;

  // The daemon's byte stream, cut into requests.
  virtual void feed(std::string_view bytes) = 0;
  virtual bool next_request(std::string& request) = 0;
  virtual void reset() = 0;  // a new connection: forget a partial request

  // What must be equal between a live and a recorded request (default: every byte).
  virtual std::string key(const std::string& request) const { return request; }
  // Bytes the instrument sent, cut into the messages they hold (default: as they were read).
  // Stateful across calls: a message split over two reads comes out once it is complete.
  virtual std::vector<std::string> split_replies(const std::string& chunk) { return {chunk}; }
  // A message the instrument sends without being asked (default: none).
  virtual bool unsolicited(const std::string& message) const {
    (void)message;
    return false;
  }
  // The recorded request `recorded` answers the live `live`: remember what to rewrite.
  virtual void matched(const std::string& recorded, const std::string& live) {
    (void)recorded;
    (void)live;
  }
  // A recorded message as it is sent to the live daemon.
  virtual std::string patch(const std::string& message) const { return message; }
};

}  // namespace opsync::drivers
