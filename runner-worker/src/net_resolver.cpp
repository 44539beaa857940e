#include "runner/net_resolver.hpp"

#include "runner/net_dns.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>

#include <array>
#include <thread>

namespace runner {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
namespace ip = events::network;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
}

struct Resolver::Impl {
  Network& network;
  asio::io_context io;
  udp::socket socket{io};
  tcp::acceptor acceptor{io};
  udp::endpoint upstream;
  std::jthread thread;

  explicit Impl(Network& n) : network(n) {}

  // What to answer a sandbox's query (empty: nothing): NXDOMAIN for a refused name, otherwise
  // upstream's answer, once the addresses of an allowed name are open.
  asio::awaitable<std::string> resolve(std::string query, std::uint32_t from) {
    const auto who = network.client(from);
    if (!who) co_return std::string();  // not a sandbox of ours
    const auto question = net::read_query(query);
    if (!question) co_return std::string();
    std::vector<ip::NameVerdict> verdicts;
    bool refused = false;
    for (const auto& layer : who->layers) {
      verdicts.push_back(ip::name_verdict(layer, question->name));
      refused = refused || verdicts.back() == ip::NameVerdict::refuse;
    }
    if (refused) co_return net::refusal(query);
    udp::socket out(io);
    boost::system::error_code ec;
    out.open(udp::v4(), ec);
    if (ec) co_return std::string();
    ::fcntl(out.native_handle(), F_SETFD, FD_CLOEXEC);
    out.connect(upstream, ec);
    if (ec) co_return std::string();
    auto [sec, sent] = co_await out.async_send(asio::buffer(query), kTuple);
    if (sec) co_return std::string();
    std::array<char, 4096> reply{};
    asio::steady_timer timer(io, std::chrono::seconds(3));
    using namespace asio::experimental::awaitable_operators;
    auto got = co_await (out.async_receive(asio::buffer(reply), kTuple) || timer.async_wait(kTuple));
    if (got.index() != 0) co_return std::string();  // upstream did not answer: the sandbox's resolver retries
    auto [rec, n] = std::get<0>(got);
    if (rec) co_return std::string();
    std::string message(reply.data(), n);
    if (const auto answer = net::read_answer(message); answer && !answer->addresses.empty()) {
      for (std::size_t layer = 0; layer < verdicts.size(); ++layer) {
        if (verdicts[layer] != ip::NameVerdict::allowed) continue;
        const auto ttl = std::max(answer->ttl, kMinOpenSeconds);
        if (auto learnt = network.learn(who->index, static_cast<int>(layer), false, answer->addresses, ttl); !learnt) {
          spdlog::warn("resolver: opening {} for sandbox {}: {}", question->name, who->index, learnt.error().message);
          co_return net::refusal(query);  // what could not be opened is not handed out
        }
      }
    }
    co_return message;
  }

  asio::awaitable<void> answer(std::string query, udp::endpoint client) {
    const auto reply = co_await resolve(std::move(query), static_cast<std::uint32_t>(client.address().to_v4().to_uint()));
    if (!reply.empty()) co_await socket.async_send_to(asio::buffer(reply), client, kTuple);
  }

  // DNS over TCP (RFC 7766 framing: a two-byte length before each message), for clients that
  // use it; answered from the same resolve(), idle connections closed after 10 s.
  asio::awaitable<void> answer_stream(tcp::socket client) {
    boost::system::error_code ec;
    const auto peer = client.remote_endpoint(ec);
    if (ec || !peer.address().is_v4()) co_return;
    const auto from = static_cast<std::uint32_t>(peer.address().to_v4().to_uint());
    using namespace asio::experimental::awaitable_operators;
    for (;;) {
      std::array<unsigned char, 2> length{};
      asio::steady_timer idle(io, std::chrono::seconds(10));
      auto got = co_await (asio::async_read(client, asio::buffer(length), kTuple) || idle.async_wait(kTuple));
      if (got.index() != 0 || std::get<0>(std::get<0>(got))) co_return;
      std::string query(static_cast<std::size_t>(length[0] << 8 | length[1]), '\0');
      auto [rec, n] = co_await asio::async_read(client, asio::buffer(query), kTuple);
      if (rec) co_return;
      const auto reply = co_await resolve(std::move(query), from);
      if (reply.empty() || reply.size() > 65535) co_return;
      std::string framed{static_cast<char>(reply.size() >> 8), static_cast<char>(reply.size() & 255)};
      framed += reply;
      auto [wec, wn] = co_await asio::async_write(client, asio::buffer(framed), kTuple);
      if (wec) co_return;
    }
  }

  asio::awaitable<void> accept_streams() {
    for (;;) {
      auto [ec, client] = co_await acceptor.async_accept(kTuple);
      if (ec) {
        if (!acceptor.is_open()) co_return;
        continue;
      }
      ::fcntl(client.native_handle(), F_SETFD, FD_CLOEXEC);
      asio::co_spawn(io, answer_stream(std::move(client)), asio::detached);
    }
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
  const tcp::endpoint stream_local(local.address(), 53);
  impl_->acceptor.open(stream_local.protocol());
  ::fcntl(impl_->acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(stream_local);
  impl_->acceptor.listen();
  asio::co_spawn(impl_->io, impl_->accept_streams(), asio::detached);
  impl_->thread = std::jthread([this] { impl_->io.run(); });
  spdlog::info("resolver: listening on {}:53 (UDP and TCP)", network.resolver_address());
}

Resolver::~Resolver() {
  asio::post(impl_->io, [this] {
    boost::system::error_code ignored;
    impl_->socket.close(ignored);
    impl_->acceptor.close(ignored);
  });
  impl_->io.stop();
}

}  // namespace runner
