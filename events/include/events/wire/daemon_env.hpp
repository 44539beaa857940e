#pragma once
// Platform → sandbox daemon: the env a claimed warm sandbox gets (POST /env on the daemon, from the
// API through the runner's forwarding endpoint, or from the runner). Only Boost.Describe: the
// static daemon includes it without linking the events library.
#include <boost/describe.hpp>

#include <map>
#include <string>
#include <vector>

namespace events::wire {

struct DaemonEnv {
  std::map<std::string, std::string> set;
  std::vector<std::string> unset;
};
BOOST_DESCRIBE_STRUCT(DaemonEnv, (), (set, unset))

}  // namespace events::wire
