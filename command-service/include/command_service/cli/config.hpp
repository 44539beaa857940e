#pragma once
// Where the CLI finds the platform: the API URL and key saved by `login` in the user's config
// dir ($XDG_CONFIG_HOME or ~/.config, daytona/config.json, mode 0600), overridden by
// DAYTONA_API_URL / DAYTONA_API_KEY as the SDK reads them.
#include "events/error.hpp"

#include <map>
#include <optional>
#include <string>

namespace command_service::cli {

struct Config {
  std::string api_url;
  std::string api_key;
};

// The config file's path for this environment.
std::string config_path(const std::map<std::string, std::string>& env);
// The saved config with the environment's overrides; empty fields when neither has them.
Config load_config(const std::map<std::string, std::string>& env);
events::Result<void> save_config(const std::string& path, const Config& config);
events::Result<void> remove_config(const std::string& path);

}  // namespace command_service::cli
