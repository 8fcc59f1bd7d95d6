// One thing wrong with a configuration, tied to the station.toml key it came from. Every
// driver's config struct lists its problems this way (problems()), so checks have one shape
// and the loader can name file, line and key for each.
#pragma once

#include <string>
#include <vector>

namespace opsync {

struct ConfigProblem {
  std::string key;      // the station.toml key, "" for the table as a whole
  std::string message;  // what is wrong, in the user's words
};

using ConfigProblems = std::vector<ConfigProblem>;

}  // namespace opsync
