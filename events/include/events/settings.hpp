#pragma once
// Declared settings: every setting of a service is declared once — its name (the environment
// variable), what it means, its default and its bounds — bound to a field of the service's
// Settings struct. load() reads them all and says which one is wrong; help() lists them (what
// `--help` prints). Pure apart from reading the environment it is given.
#include "events/error.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace events::settings {

// name → value, or null when unset (std::getenv by default).
using Environment = std::function<const char*(const char*)>;
Environment process_environment();

class Declared {
 public:
  explicit Declared(std::string program) : program_(std::move(program)) {}

  // Text; `required`: unset or empty is an error.
  void text(const std::string& name, std::string& field, std::string help, bool required = false);
  // A whole number in [min, max].
  void number(const std::string& name, int& field, std::string help, int min, int max);
  // A port: 0 to 65535 (0: any free port).
  void port(const std::string& name, unsigned short& field, std::string help);
  // Whole seconds in [min, max].
  void seconds(const std::string& name, std::chrono::seconds& field, std::string help, int min, int max);
  // An absolute http(s) or nats URL (events/url.hpp).
  void url(const std::string& name, std::string& field, std::string help);
  // Absolute paths separated by ':' (empty: none).
  void paths(const std::string& name, std::vector<std::string>& field, std::string help);

  // Reads every declared setting; the first that is wrong is the error, naming it and saying why.
  Result<void> load(const Environment& env = process_environment());
  // One line per setting: name, default, bounds, meaning.
  std::string help() const;

  // For mains: `--help` prints help() and gives 0; a wrong setting prints "program: NAME ..." and
  // gives 2; otherwise nothing, and the program goes on.
  std::optional<int> load_for_main(int argc, char** argv, const Environment& env = process_environment());

 private:
  struct Entry {
    std::string name;
    std::string help;
    std::string fallback;  // the default, as text
    std::string bounds;    // for help: "1..256", "absolute paths", ...
    std::function<std::optional<std::string>(const std::string& value)> set;  // a problem, or nothing
    bool required = false;
  };
  std::string program_;
  std::vector<Entry> entries_;
};

}  // namespace events::settings
