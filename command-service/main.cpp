// command-service: the REST API under /api. Settings come from the environment (declared in
// settings.cpp; `command-service --help` lists them); App wires everything; SIGTERM lets in-flight
// requests finish.
#include "command_service/app.hpp"

#include <iostream>

int main(int argc, char** argv) {
  command_service::Settings settings;
  events::settings::Declared declared("command-service");
  command_service::declare(declared, settings);
  if (auto code = declared.load_for_main(argc, argv)) return *code;
  auto app = command_service::App::build(settings);
  if (!app) {
    std::cerr << "command-service: " << app.error().message << "\n";
    return 2;
  }
  (*app)->run();
  return 0;
}
