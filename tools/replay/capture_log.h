// The capture log: a recorded session's raw captures as a compact, diffable text file (for
// golden regression tests and for sharing a recording without its whole store), read back as a
// ReplayInput. Format (docs/replay.md has the full description):
//
//   opsync-capture-log 2
//   session "NAME" STARTED_NS ENDED_NS "HOST" "NOTE"
//   source INDEX "NAME" "KIND" "ADDRESS" "NOTE" TRANSPORT_DELAY_S   (v1: no delay; it was in the note)
//   +DT SRC > PAYLOAD          bytes the driver sent       (SRC: source index)
//   +DT SRC < PAYLOAD          bytes read from the instrument
//   +DT SRC T                  a tick of the driver that sent nothing
//   +DT SRC @ "KIND" "DETAIL"  an event replay copies (SRC "-" for the session)
//   +DT - config N             the station.toml in force, on the N lines that follow, each after "|"
//
// DT is in ns since the previous timed line (the first: since STARTED_NS). PAYLOAD is "text"
// with C escapes (\r \n \t \" \\ \xHH) or x followed by hex, whichever is shorter.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "replay/replay_input.h"

namespace opsync::replay {

void write_capture_log(ReplayInput& input, std::ostream& out);
void write_capture_log_file(ReplayInput& input, const std::string& path);

// Throws ReplayError with "FILE:LINE: what is wrong" on a malformed file.
std::unique_ptr<MemoryInput> read_capture_log(const std::string& path);

// The text helpers of the format, shared with the records text (record_text.h).
std::string quote(std::string_view bytes);          // "..." with C escapes
std::string encode_payload(std::string_view bytes);  // quote() or x<hex>, the shorter

struct Token {
  std::string text;  // unescaped for a quoted string
  bool quoted = false;
};
// Splits a line into bare words and "quoted strings". False with `error` set when malformed.
bool split_tokens(std::string_view line, std::vector<Token>& tokens, std::string& error);
// A PAYLOAD token back to bytes. False when it is neither quoted nor x<hex>.
bool decode_payload(const Token& token, std::string& bytes);

}  // namespace opsync::replay
