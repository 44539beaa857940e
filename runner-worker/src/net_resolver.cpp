#include "runner/net_resolver.hpp"

#include "runner/net_dns.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>

#include <array>
#include <thread>

namespace runner {

namespace asio = boost::asio;
using asio::ip::udp;
namespace ip = events::network;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
}

struct Resolver::Impl {
  Network& network;
  asio::io_context io;
  udp::socket socket{io};
  udp::endpoint upstream;
  std::jthread thread;

  explicit Impl(Network& n) : network(n) {}

  asio::awaitable<void> answer(std::string query, udp::endpoint client) {
    const auto who = network.client(static_cast<std::uint32_t>(client.address().to_v4().to_uint()));
    if (!who) co_return;  // not a sandbox of ours
    const auto question = net::read_query(query);
    if (!question) co_return;
    std::vector<ip::NameVerdict> verdicts;
    bool refused = false;
    for (const auto& layer : who->layers) {
      verdicts.push_back(ip::name_verdict(layer, question->name));
      refused = refused || verdicts.back() == ip::NameVerdict::refuse;
    }
    if (refused) {
      const auto no = net::refusal(query);
      if (!no.empty()) co_await socket.async_send_to(asio::buffer(no), client, kTuple);
      co_return;
    }
    udp::socket out(io);
    boost::system::error_code ec;
    out.open(udp::v4(), ec);
    if (ec) co_return;
    ::fcntl(out.native_handle(), F_SETFD, FD_CLOEXEC);
    out.connect(upstream, ec);
    if (ec) co_return;
    auto [sec, sent] = co_await out.async_send(asio::buffer(query), kTuple);
    if (sec) co_return;
    std::array<char, 4096> reply{};
    asio::steady_timer timer(io, std::chrono::seconds(3));
    using namespace asio::experimental::awaitable_operators;
    auto got = co_await (out.async_receive(asio::buffer(reply), kTuple) || timer.async_wait(kTuple));
    if (got.index() != 0) co_return;  // upstream did not answer: the sandbox's resolver retries
    auto [rec, n] = std::get<0>(got);
    if (rec) co_return;
    const std::string_view message(reply.data(), n);
    if (const auto answer = net::read_answer(message); answer && !answer->addresses.empty()) {
      for (std::size_t layer = 0; layer < verdicts.size(); ++layer) {
        if (verdicts[layer] != ip::NameVerdict::allowed) continue;
        const auto ttl = std::max(answer->ttl, kMinOpenSeconds);
        if (auto learnt = network.learn(who->index, static_cast<int>(layer), false, answer->addresses, ttl); !learnt) {
          spdlog::warn("resolver: opening {} for sandbox {}: {}", question->name, who->index, learnt.error().message);
          const auto no = net::refusal(query);  // what could not be opened is not handed out
          if (!no.empty()) co_await socket.async_send_to(asio::buffer(no), client, kTuple);
          co_return;
        }
      }
    }
    co_await socket.async_send_to(asio::buffer(message), client, kTuple);
  }

  asio::awaitable<void> serve() {
    std::array<char, 4096> buffer{};
    for (;;) {
      udp::endpoint client;
      auto [ec, n] = co_await socket.async_receive_from(asio::buffer(buffer), client, kTuple);
      if (ec) {
        if (!socket.is_open()) co_return;
        continue;
      }
      asio::co_spawn(io, answer(std::string(buffer.data(), n), client), asio::detached);
    }
  }
};

Resolver::Resolver(Network& network) : impl_(std::make_unique<Impl>(network)) {
  impl_->upstream = udp::endpoint(asio::ip::make_address_v4(network.upstream_address()), network.upstream_port());
  const udp::endpoint local(asio::ip::make_address_v4(network.resolver_address()), 53);
  impl_->socket.open(udp::v4());
  ::fcntl(impl_->socket.native_handle(), F_SETFD, FD_CLOEXEC);
  impl_->socket.set_option(asio::socket_base::reuse_address(true));
  impl_->socket.bind(local);
  asio::co_spawn(impl_->io, impl_->serve(), asio::detached);
  impl_->thread = std::jthread([this] { impl_->io.run(); });
  spdlog::info("resolver: listening on {}:53", network.resolver_address());
}

Resolver::~Resolver() {
  asio::post(impl_->io, [this] {
    boost::system::error_code ignored;
    impl_->socket.close(ignored);
  });
  impl_->io.stop();
}

}  // namespace runner
