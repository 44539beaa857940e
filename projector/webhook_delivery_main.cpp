// webhook-delivery: sends the organizations' public events to their webhook endpoints, from the
// log (projector/include/projector/webhooks/delivery.hpp). Settings from the environment
// (`webhook-delivery --help`); SIGTERM stops it (the log and the queue keep what is not sent).
#include "events/bus/hints.hpp"
#include "projector/webhooks/delivery.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
  projector::webhooks::DeliveryEnvironment env;
  events::settings::Declared declared("webhook-delivery");
  projector::webhooks::declare(declared, env);
  if (auto code = declared.load_for_main(argc, argv)) return *code;
  auto settings = projector::webhooks::settings_of(env);
  if (!settings) {
    std::cerr << "webhook-delivery: " << settings.error().message << "\n";
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // the threads started below inherit the mask

  auto wake = events::bus::wake_on_appends(env.nats_url, "webhook-delivery");
  if (!wake) {
    std::cerr << "webhook-delivery: " << wake.error().message << "\n";
    return 1;
  }
  auto delivery = projector::webhooks::Delivery::start(*settings, wake->bell);
  if (!delivery) {
    std::cerr << delivery.error().message << "\n";
    return 1;
  }
  spdlog::info("webhook-delivery started");
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("webhook-delivery stopping at position {}", (*delivery)->position());
  return 0;
}
